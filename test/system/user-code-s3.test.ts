/**
 * User inference code from `s3://.../sourcedir.tar.gz` (SAGEMAKER_SUBMIT_DIRECTORY), fetched from a real
 * moto_server on loopback and extracted safely before the app serves it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as tar from 'tar';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { request, type TestServer } from '../serve/helpers.js';
import { serveModel } from '../serve/handlers/serve-model.js';
import { freePort } from '../../src/util/net.js';

let moto: ChildProcess;
let endpoint: string;
let dir: string;
let server: TestServer | undefined;

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket.end() !== undefined));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`moto_server did not listen on ${port} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  const port = await freePort();
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  endpoint = `http://127.0.0.1:${port}`;
  await waitForPort(port, 60_000);
  // The SDK's default credential chain reads these; moto accepts any.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-s3-code-'));
});

afterAll(async () => {
  await server?.close();
  moto?.kill();
  await rm(dir, { recursive: true, force: true });
});

test('SAGEMAKER_SUBMIT_DIRECTORY=s3://.../sourcedir.tar.gz: downloaded, extracted, hooks served', async () => {
  await writeFile(
    path.join(dir, 'serve.mjs'),
    `import { helper } from './lib/helper.mjs';
export const transformFn = (model, body) => helper(body.toString());`,
  );
  await mkdir(path.join(dir, 'lib'));
  await writeFile(path.join(dir, 'lib', 'helper.mjs'), 'export const helper = (text) => "s3 says " + text;');
  const archive = path.join(os.tmpdir(), `sourcedir-${process.pid}.tar.gz`);
  await tar.c({ gzip: true, file: archive, cwd: dir }, ['serve.mjs', 'lib']);
  const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'code', Key: 'job/sourcedir.tar.gz', Body: await readFile(archive) }),
  );
  s3.destroy();
  await rm(archive);

  server = await serveModel(await mkdtemp(path.join(os.tmpdir(), 'smkit-empty-model-')), {
    SAGEMAKER_SUBMIT_DIRECTORY: 's3://code/job/sourcedir.tar.gz',
    SAGEMAKER_PROGRAM: 'serve.mjs',
    SAGEMAKER_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
  });
  expect((await request(server.url, { method: 'GET', path: '/ping' })).status).toBe(200);
  const reply = await request(server.url, {
    headers: { 'Content-Type': 'text/plain', Accept: 'text/plain' },
    body: 'hi',
  });
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('s3 says hi');
});
