import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerLauncher } from '../../src/local/host-process.js';
import { hostAddress, hostNames } from '../../src/local/job-tree.js';
import { startLocalEndpoint } from '../../src/local/local-endpoint.js';
import { parseChannel } from '../../src/cli/job-flags.js';
import { runLocalTraining } from '../../src/local/train-job.js';

/**
 * `smkit local` with `--image`: real containers on the host network. Needs a running Docker engine and
 * a Node base image (scripts/build-offline-base.sh builds one without a registry; SMKIT_BASE_IMAGE names it).
 */
const run = promisify(execFile);
const BASE = process.env.SMKIT_BASE_IMAGE ?? 'smkit-base:node24-bookworm-amd64';
const IMAGE = 'smkit-local-fake:test';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-local-docker-'));
  const context = path.join(dir, 'image');
  await mkdir(context);
  for (const name of ['dispatch.mjs', 'fake-train.mjs', 'fake-serve.mjs']) {
    await writeFile(path.join(context, name), await readFile(path.resolve('test/fixtures/local', name)));
  }
  await writeFile(
    path.join(context, 'Dockerfile'),
    `FROM ${BASE}\nCOPY *.mjs /opt/fake/\nENTRYPOINT ["node", "/opt/fake/dispatch.mjs"]\n`,
  );
  await run('docker', ['build', '-q', '--network', 'host', '-t', IMAGE, context], { timeout: 600_000 });
  await mkdir(path.join(dir, 'data'));
  await writeFile(path.join(dir, 'data/a.csv'), '1,2\n3,4\n');
  await writeFile(path.join(dir, 'data/b.csv'), '5,6\n');
});
afterAll(async () => {
  // vfs storage copies whole layers: do not leave the test image behind.
  await run('docker', ['rmi', '-f', IMAGE]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const hosts = (n: number) => hostNames(n).map((host, i) => ({ host, address: hostAddress(i) }));

function train(jobName: string, image: string, channels: string[], count: number) {
  return runLocalTraining({
    jobName,
    algorithm: 'kmeans',
    hyperparameters: {},
    channels: channels.map(parseChannel),
    hosts: count,
    outputDir: path.join(dir, jobName),
    metricDefinitions: [],
    launcher: dockerLauncher(image, jobName, hosts(count)),
    image,
  });
}

describe('smkit local --image', () => {
  it('runs two training containers with sharded File and Pipe channels', async () => {
    const data = path.join(dir, 'data');
    const result = await train(
      'docker-job',
      IMAGE,
      [`train=${data},distribution=ShardedByS3Key`, `p=${data},mode=Pipe`],
      2,
    );
    expect(result.status).toBe('Completed');
    expect(result.model!.members).toEqual(['report-algo-1.json', 'report-algo-2.json']);
    expect(result.pipes.map((p) => [p.host, p.epochs, p.bytes])).toEqual([
      ['algo-1', 1, 12],
      ['algo-2', 1, 12],
    ]);
  });

  it('says when an image does not support train', async () => {
    const result = await train('no-train', BASE, [`train=${path.join(dir, 'data')}`], 1);
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toMatch(new RegExp(`^image ${BASE} does not support \`train\``));
  });

  it('serves the model mounted read-only behind the limit proxy', async () => {
    await mkdir(path.join(dir, 'model'));
    await writeFile(path.join(dir, 'model/model_algo-1'), 'weights');
    await tar.c({ gzip: true, file: path.join(dir, 'model.tar.gz'), cwd: path.join(dir, 'model') }, ['.']);
    const endpoint = await startLocalEndpoint({
      model: path.join(dir, 'model.tar.gz'),
      port: 0,
      image: IMAGE,
      smkitCommand: [],
    });
    try {
      await endpoint.ready;
      const report = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          `${endpoint.url}/invocations`,
          { method: 'POST', headers: { 'content-type': 'text/csv', accept: 'application/x-report' } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end('1,2');
      });
      expect(JSON.parse(report)).toMatchObject({ files: ['model_algo-1'], writable: false });
    } finally {
      await endpoint.close();
    }
  });
});
