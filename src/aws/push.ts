/**
 * `smkit push`: build (optionally), tag and push an image to ECR, then check what arrived: one image
 * manifest (an OCI index is replaced by its image), and the architecture in the image config.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateRepositoryCommand,
  type CreateRepositoryCommandInput,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { InputError, SmkitError } from '../util/errors.js';
import { isIndex, readImagePlatform, readManifest, replaceIndex, type RegistryAccess } from './registry.js';
import type { AwsSession } from './session.js';

const run = promisify(execFile);

/** What `smkit push` takes. */
export interface PushOptions {
  /** A local image to push; with `build`, the tag the build gets (default REPOSITORY:TAG). */
  readonly image?: string;
  readonly build?: boolean;
  /** Build context (default '.'). */
  readonly context?: string;
  readonly dockerfile?: string;
  readonly repository: string;
  readonly tag?: string;
  readonly platform?: 'linux/amd64' | 'linux/arm64';
  readonly immutableTags?: boolean;
  /**
   * Push the layers to this registry (`127.0.0.1:5000`) instead of ECR's, then register the manifest
   * in ECR with PutImage: for emulators without a registry, and air-gapped mirrors.
   */
  readonly registry?: string;
  readonly docker?: string;
  readonly onStatus?: (line: string) => void;
}

/** What was pushed. */
export interface PushResult {
  readonly uri: string;
  readonly digest?: string;
  readonly architecture?: string;
  readonly repositoryCreated: boolean;
  readonly fixedIndex: boolean;
}

const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** The ECR repository created when missing: scan on push, tag mutability as asked. */
export function createRepositoryRequest(
  options: Pick<PushOptions, 'repository' | 'immutableTags'>,
): CreateRepositoryCommandInput {
  return {
    repositoryName: options.repository,
    imageScanningConfiguration: { scanOnPush: true },
    imageTagMutability: options.immutableTags ? 'IMMUTABLE' : 'MUTABLE',
  };
}

async function docker(bin: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) {
    try {
      return (await run(bin, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new SmkitError(`docker ${args[0]} failed: ${(e.stderr || e.message).trim().split('\n').at(-1)}`);
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new SmkitError(`docker ${args[0]} failed: ${err.trim().split('\n').at(-1)}`)),
    );
    child.stdin.end(input);
  });
}

async function checkDockerRunning(bin: string): Promise<void> {
  try {
    await run(bin, ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 });
  } catch (error) {
    throw new SmkitError(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'docker is not installed: smkit push needs Docker to build, tag and push the image'
        : 'Docker is not running: start the Docker engine (dockerd); smkit push needs it to tag and push the image',
    );
  }
}

/** Pushes the image and verifies it (see the module comment). */
export async function push(session: AwsSession, options: PushOptions): Promise<PushResult> {
  if (!REPOSITORY.test(options.repository)) {
    throw new InputError(
      `--repository '${options.repository}' is not an ECR repository name (lower case, digits, . _ - /)`,
    );
  }
  if (!options.build && !options.image)
    throw new InputError('give --image LOCAL_IMAGE, or --build to build one');
  const tag = options.tag ?? 'latest';
  const platform = options.platform ?? 'linux/amd64';
  const status = options.onStatus ?? (() => undefined);
  const bin = options.docker ?? 'docker';
  if (!session.dryRun) await checkDockerRunning(bin);

  const [account, region] = await Promise.all([session.accountId(), session.region()]);
  const host = `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
  const uri = `${host}/${options.repository}:${tag}`;

  const existing = await session.lookup(
    'ecr',
    new DescribeRepositoriesCommand({ repositoryNames: [options.repository] }),
  );
  let repositoryCreated = false;
  if (!existing?.repositories?.length) {
    await session.call('ecr', new CreateRepositoryCommand(createRepositoryRequest(options)));
    repositoryCreated = true;
    session.noteCreated({
      kind: 'ECR repository',
      name: options.repository,
      remove: `aws ecr delete-repository --repository-name ${options.repository} --force --region ${region}`,
    });
    status(`created ECR repository ${options.repository} (scan on push)`);
  }
  const auth = await session.call('ecr', new GetAuthorizationTokenCommand({}));
  if (session.dryRun) return { uri, repositoryCreated, fixedIndex: false };

  const token = auth.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new SmkitError('ECR GetAuthorizationToken answered without a token');
  const [user, password] = Buffer.from(token, 'base64').toString('utf8').split(':');
  const pushHost = options.registry ?? host;
  const local = options.image ?? `${options.repository}:${tag}`;
  if (options.build) {
    status(`building ${local} for ${platform}`);
    await docker(bin, [
      'build',
      '--network',
      'host',
      '--platform',
      platform,
      ...(options.dockerfile ? ['-f', options.dockerfile] : []),
      '-t',
      local,
      options.context ?? '.',
    ]);
  }
  await docker(bin, ['login', '--username', user ?? 'AWS', '--password-stdin', pushHost], password ?? '');
  const remote = `${pushHost}/${options.repository}:${tag}`;
  await docker(bin, ['tag', local, remote]);
  status(`pushing ${remote}`);
  try {
    await docker(bin, ['push', remote]);
  } finally {
    if (remote !== local) await docker(bin, ['rmi', remote]).catch(() => undefined);
  }

  // Check what the registry holds, not what the local engine says.
  const access: RegistryAccess = options.registry
    ? { base: `http://${options.registry}` }
    : { base: `https://${host}`, authorization: `Basic ${token}` };
  let manifest = await readManifest(access, options.repository, tag);
  const wanted = platform.split('/')[1]!;
  let fixedIndex = false;
  if (isIndex(manifest)) {
    status(
      `${options.repository}:${tag} is a multi-platform index (buildx provenance?), which SageMaker refuses: re-tagging its linux/${wanted} image`,
    );
    manifest = await replaceIndex(access, options.repository, tag, manifest, wanted);
    fixedIndex = true;
  }
  const { os, architecture } = await readImagePlatform(access, options.repository, manifest);
  if (os !== 'linux' || architecture !== wanted) {
    throw new SmkitError(
      `${remote} is ${os}/${architecture}, not ${platform}: instances of that platform would fail with 'exec format error'; rebuild with --platform ${platform} (or pass --platform linux/${architecture})`,
    );
  }
  if (options.registry) {
    await session.call(
      'ecr',
      new PutImageCommand({
        repositoryName: options.repository,
        imageTag: tag,
        imageManifest: manifest.bytes.toString('utf8'),
        imageManifestMediaType: manifest.mediaType,
      }),
    );
  }
  return { uri, digest: manifest.digest, architecture, repositoryCreated, fixedIndex };
}
