/**
 * `smkit push` and scripts/build-and-push.sh against moto_server (ECR API) and Debian's docker-registry
 * on loopback (moto has no registry): the repository moto holds afterwards, the image ECR describes,
 * and the manifest the registry serves.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { replaceIndex, readManifest } from '../../src/aws/registry.js';
import { freePort } from '../../src/util/net.js';
import { AWS_TEST_ENV, clientConfig, MOTO_ACCOUNT, type Moto, smkit, startMoto } from './aws-helpers.js';

const run = promisify(execFile);
// Namespaced like the other system test images, so checkouts sharing the engine do not collide.
const TINY = `smkit-push-tiny:${process.env.SMKIT_TEST_NAMESPACE || 'default'}`;

let moto: Moto;
let ecr: ECRClient;
let work: string;
let registry: ChildProcess;
let registryHost: string;

beforeAll(async () => {
  await run('bash', [
    '-c',
    'command -v docker-registry >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null)',
  ]);
  moto = await startMoto();
  ecr = new ECRClient(clientConfig(moto.endpoint));
  work = await mkdtemp(path.join(os.tmpdir(), 'smkit-aws-push-'));
  const port = await freePort();
  registryHost = `127.0.0.1:${port}`;
  const config = path.join(work, 'registry.yml');
  await writeFile(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${work}/registry\nhttp:\n  addr: ${registryHost}\n`,
  );
  registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    if (
      await fetch(`http://${registryHost}/v2/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (attempt > 100) throw new Error('docker-registry did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A one-file image, imported rather than pulled (no Docker Hub here); `docker import` records the host's architecture.
  await writeFile(path.join(work, 'hello.txt'), 'hello\n');
  await run('bash', ['-c', `tar -C ${work} -c hello.txt | docker import - ${TINY}`]);
});

afterAll(async () => {
  ecr?.destroy();
  registry?.kill();
  await run('docker', ['rmi', '-f', TINY]).catch(() => undefined);
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(() => moto.reset());

/** `smkit push` of the tiny image through the loopback registry into moto's ECR. */
const pushTiny = (repository: string, ...more: string[]) =>
  smkit([
    'push',
    '--endpoint-url',
    moto.endpoint,
    '--image',
    TINY,
    '--repository',
    repository,
    '--registry',
    registryHost,
    ...more,
  ]);

describe('smkit push', () => {
  test('creates the repository, pushes, checks the manifest and registers it in ECR', async () => {
    const pushed = await pushTiny('team/tiny', '--tag', '1.0', '--json');
    expect(pushed.code, pushed.stderr).toBe(0);
    const result = JSON.parse(pushed.stdout) as {
      uri: string;
      digest: string;
      architecture: string;
      repositoryCreated: boolean;
    };
    expect(result).toEqual({
      uri: `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/tiny:1.0`,
      digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
      architecture: 'amd64',
      repositoryCreated: true,
      fixedIndex: false,
    });
    const [repository] =
      (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/tiny'] }))).repositories ??
      [];
    expect([repository?.imageScanningConfiguration?.scanOnPush, repository?.imageTagMutability]).toEqual([
      true,
      'MUTABLE',
    ]);
    const [image] =
      (await ecr.send(new DescribeImagesCommand({ repositoryName: 'team/tiny' }))).imageDetails ?? [];
    // moto digests its own re-serialisation of the manifest, not the bytes; the registry's digest is the real one.
    expect(image?.imageTags).toEqual(['1.0']);
    const manifest = await readManifest({ base: `http://${registryHost}` }, 'team/tiny', '1.0');
    expect([manifest.mediaType, manifest.digest]).toEqual([
      'application/vnd.docker.distribution.manifest.v2+json',
      result.digest,
    ]);

    // Pushing again to the existing repository does not create it again.
    const again = await pushTiny('team/tiny', '--tag', '1.1', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { repositoryCreated: boolean }).repositoryCreated).toBe(false);
  });

  test('an image of another architecture than --platform is refused, saying what exists', async () => {
    const pushed = await pushTiny('tiny', '--platform', 'linux/arm64', '--immutable-tags');
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toMatch(
      /smkit push: .*tiny:latest is linux\/amd64, not linux\/arm64: instances of that platform would fail with 'exec format error'/,
    );
    expect(pushed.stderr).toMatch(
      /ECR repository tiny: remove with `aws ecr delete-repository --repository-name tiny --force --region us-east-1`/,
    );
    const [repository] =
      (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['tiny'] }))).repositories ?? [];
    expect(repository?.imageTagMutability).toBe('IMMUTABLE');
    expect((await ecr.send(new DescribeImagesCommand({ repositoryName: 'tiny' }))).imageDetails).toEqual([]);
  });

  test('an OCI index under the tag is replaced by its linux image manifest', async () => {
    expect((await pushTiny('indexed')).code).toBe(0);
    const access = { base: `http://${registryHost}` };
    const single = await readManifest(access, 'indexed', 'latest');
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: single.mediaType,
          digest: single.digest,
          size: single.bytes.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    };
    const put = await fetch(`${access.base}/v2/indexed/manifests/latest`, {
      method: 'PUT',
      headers: { 'content-type': index.mediaType },
      body: JSON.stringify(index),
    });
    expect(put.status).toBe(201);
    const stored = await readManifest(access, 'indexed', 'latest');
    expect(stored.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const fixed = await replaceIndex(access, 'indexed', 'latest', stored, 'amd64');
    expect([fixed.mediaType, fixed.digest]).toEqual([single.mediaType, single.digest]);
    await expect(replaceIndex(access, 'indexed', 'latest', stored, 'arm64')).rejects.toThrow(
      /index without a linux\/arm64 image; rebuild with `docker build --provenance=false/,
    );
  });

  test('scripts/build-and-push.sh builds and pushes with the shape of AWS build_and_push.sh', async () => {
    const context = path.join(work, 'context');
    await run('mkdir', ['-p', context]);
    await writeFile(path.join(context, 'Dockerfile'), `FROM ${TINY}\nLABEL smkit.test=build-and-push\n`);
    const cli = `${process.execPath} --import ${pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href} ${path.resolve('test/train/fixtures/smkit-cli.ts')}`;
    const script = path.resolve('scripts/build-and-push.sh');
    const { stdout } = await run(
      'bash',
      [script, 'built', '2.0', '--endpoint-url', moto.endpoint, '--registry', registryHost],
      {
        cwd: context,
        env: { ...process.env, ...AWS_TEST_ENV, SMKIT: cli },
      },
    );
    expect(stdout.split('\n')[0]).toBe(`${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/built:2.0`);
    const [image] =
      (await ecr.send(new DescribeImagesCommand({ repositoryName: 'built' }))).imageDetails ?? [];
    expect(image?.imageTags).toEqual(['2.0']);
    await run('docker', ['rmi', '-f', 'built:2.0']).catch(() => undefined);
  });
});
