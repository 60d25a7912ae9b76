import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { c as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createJobTree, readFailure } from '../train/job-tree.js';
import { freePort } from '../../src/util/net.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUCKET = 'smkit-jobs';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('script mode with sourcedir.tar.gz on S3 (moto_server)', () => {
  let moto: ChildProcess;
  let endpoint: string;
  let s3: S3Client;

  beforeAll(async () => {
    const build = await run('npm', ['run', 'build']);
    expect(build.code, build.output).toBe(0);
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForHttp(endpoint, 60_000);
    s3 = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  afterAll(async () => {
    s3?.destroy();
    if (moto?.exitCode === null) {
      moto.kill('SIGTERM');
      await once(moto, 'exit');
    }
  });

  test('smkit train downloads, extracts and runs the script, which writes the model', async () => {
    const source = await mkdtemp(path.join(os.tmpdir(), 'smkit-sourcedir-'));
    await mkdir(path.join(source, 'lib'));
    await writeFile(
      path.join(source, 'lib', 'mean.js'),
      'module.exports = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;\n',
    );
    await writeFile(
      path.join(source, 'train.js'),
      `const fs = require('node:fs');
const path = require('node:path');
const mean = require('./lib/mean.js');
const args = process.argv.slice(2);
const scale = Number(args[args.indexOf('--scale') + 1]);
const values = fs.readFileSync(path.join(process.env.SM_CHANNEL_TRAIN, 'data.csv'), 'utf8').trim().split('\\n').map(Number);
fs.writeFileSync(path.join(process.env.SM_MODEL_DIR, 'model.json'), JSON.stringify({ mean: mean(values) * scale }));
console.log('train:mean=' + mean(values));
`,
    );
    const archive = path.join(source, '..', `${path.basename(source)}.tar.gz`);
    await createTar({ gzip: true, file: archive, cwd: source }, ['train.js', 'lib']);
    const key = 'job-1/source/sourcedir.tar.gz';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(archive) }));

    const paths = await createJobTree({
      hyperparameters: {
        sagemaker_program: '"train.js"',
        sagemaker_submit_directory: JSON.stringify(`s3://${BUCKET}/${key}`),
        sagemaker_region: '"us-east-1"',
        scale: '2',
      },
      inputDataConfig: { train: { TrainingInputMode: 'File', ContentType: 'text/csv' } },
      data: { 'train/data.csv': '1\n2\n3\n' },
    });
    const result = await run('./bin/smkit', ['train'], {
      SAGEMAKER_BASE_DIR: paths.base,
      AWS_ENDPOINT_URL_S3: endpoint,
      ...CREDENTIALS,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('train:mean=2\n');
    expect(JSON.parse(await readFile(path.join(paths.model, 'model.json'), 'utf8'))).toEqual({ mean: 4 });
    expect((await readdir(paths.code)).sort()).toEqual(['lib', 'train.js']);
    expect(await readFailure(paths)).toBeUndefined();
  });

  test('a missing object fails naming the URI and the S3 error', async () => {
    const uri = `s3://${BUCKET}/job-2/source/sourcedir.tar.gz`;
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"', sagemaker_submit_directory: JSON.stringify(uri) },
    });
    const result = await run('./bin/smkit', ['train'], {
      SAGEMAKER_BASE_DIR: paths.base,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      ...CREDENTIALS,
    });
    expect(result.code).toBe(1);
    expect(await readFailure(paths)).toMatch(new RegExp(`^cannot download ${uri}: NoSuchKey`));
    expect(await readdir(paths.model)).toEqual([]);
  });
});
