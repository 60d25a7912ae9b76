/**
 * The four ways, end to end, as a user runs them from the repo root: each example's run.ts with the
 * flags its README shows, asserting what it prints (and, for the AWS legs, the requests moto_server
 * received through a recording proxy and what it holds afterwards). Local legs need no Docker;
 * examples 3 and 4 also run in images (the smkit image, and images built from example 4's Dockerfiles).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListEndpointsCommand, ListModelsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import * as tar from 'tar';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { mustRun } from '../../scripts/docker-image.js';
import {
  type CliRun,
  clientConfig,
  MOTO_ACCOUNT,
  type Moto,
  type RecordingProxy,
  type SeenRequest,
  startMoto,
  startRecordingProxy,
  targetOf,
} from './aws-helpers.js';
import { BASE_IMAGE, SMKIT_IMAGE } from './docker-names.js';
import { buildImage, echoedCommands, registerImage, ROLE, root, runExample } from './examples-helpers.js';

const BUCKET = `sagemaker-us-east-1-${MOTO_ACCOUNT}`;
let moto: Moto;
let proxy: RecordingProxy;
let work: string;
let s3: S3Client;
let sagemaker: SageMakerClient;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(clientConfig(moto.endpoint));
  sagemaker = new SageMakerClient(clientConfig(moto.endpoint));
  work = await mkdtemp(path.join(os.tmpdir(), 'smkit-examples-'));
});

afterAll(async () => {
  s3?.destroy();
  sagemaker?.destroy();
  await proxy?.close();
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  (proxy.seen as SeenRequest[]).length = 0;
});

/** The iris test rows' species, in file order. */
async function testSpecies(): Promise<string[]> {
  const text = await readFile(path.join(root, 'examples/data/iris/iris_test.csv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0]!);
}

/** The SageMaker operations (JSON protocol) and InvokeEndpoint calls the proxy saw, in order. */
function operations(): string[] {
  return proxy.seen
    .map((request) =>
      /\/endpoints\/[^/]+\/invocations$/.test(request.url) ? 'InvokeEndpoint' : targetOf(request),
    )
    .filter((name): name is string => name !== undefined && !/^(Describe|List|Get)/.test(name));
}

/** The JSON body of the first request of `operation`. */
function bodyOf(operation: string): Record<string, unknown> {
  const request = proxy.seen.find((r) => targetOf(r) === operation);
  if (!request) throw new Error(`no ${operation} request; saw ${operations().join(', ')}`);
  return JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
}

/** The confusion table example 1 prints: species -> counts per cluster, and the agreement line. */
function parseConfusion(stdout: string) {
  const rows = new Map<string, number[]>();
  for (const match of stdout.matchAll(/^(Iris-\w+)\s+(\d+)\s+(\d+)\s+(\d+)$/gm))
    rows.set(match[1]!, [Number(match[2]), Number(match[3]), Number(match[4])]);
  const agree = /^(\d+) of 38 test rows fall in their species' cluster$/m.exec(stdout);
  return { rows, agree: agree ? Number(agree[1]) : undefined };
}

/** Example 1's table must add up: each species' rows, and agreement = the sum of each cluster's largest count. */
async function expectIrisClusters(stdout: string): Promise<void> {
  const { rows, agree } = parseConfusion(stdout);
  const species = await testSpecies();
  expect(Object.fromEntries([...rows].map(([name, counts]) => [name, counts.reduce((a, b) => a + b)]))).toEqual(
    Object.fromEntries(['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'].map((s) => [s, species.filter((x) => x === s).length])),
  );
  const columnMax = [0, 1, 2].map((c) => Math.max(...[...rows.values()].map((counts) => counts[c]!)));
  expect(agree).toBe(columnMax.reduce((a, b) => a + b));
  expect(agree).toBeGreaterThanOrEqual(32);
}

describe('example 1: built-in k-means on iris', () => {
  const dir = () => path.join(work, 'example-1');
  // The local leg runs once: its model.tar.gz is also what the emulated training job "wrote".
  let local: Promise<CliRun>;
  beforeAll(() => {
    local = runExample('1-builtin-kmeans-iris', ['--local', '--work', dir()]);
  });

  test('--local: smkit local train, serve and invoke; at least 32 of 38 test rows in their species cluster', async () => {
    const run = await local;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('iris: 112 training rows, 38 test rows\n');
    expect(echoedCommands(run.stdout)).toEqual(['smkit local train', 'smkit local serve', 'smkit local invoke']);
    expect(run.stdout).toMatch(
      /^\$ smkit local train --algorithm kmeans --hyperparameters k=3,feature_dim=4 --channel train=\S+,content-type=text\/csv/m,
    );
    expect(run.stdout).toContain('training Completed: ');
    await expectIrisClusters(run.stdout);
  });

  test('--aws against moto: train-job, deploy, invoke, teardown, as requested; predictions from the job model served locally', async () => {
    expect((await local).code).toBe(0);
    const image = await registerImage(moto.endpoint, 'smkit', '1');
    // SageMaker writes the job's model.tar.gz; moto names the key but never writes it: put the model
    // the local leg trained where SageMaker would.
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const model = await readFile(path.join(dir(), 'local/model.tar.gz'));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'iris-kmeans-test/output/model.tar.gz', Body: model }),
    );
    const run = await runExample('1-builtin-kmeans-iris', [
      '--aws',
      '--image',
      image,
      '--role',
      ROLE,
      '--endpoint-url',
      proxy.endpoint,
      '--job-name',
      'iris-kmeans-test',
      '--work',
      dir(),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit train-job',
      'smkit deploy',
      'smkit invoke',
      'smkit local serve',
      'smkit local invoke',
      'smkit teardown iris-kmeans-test',
    ]);
    expect(run.stdout).toContain('endpoint iris-kmeans-test: InService\n');
    expect(run.stdout).toContain('the emulator answered InvokeEndpoint with: ');
    await expectIrisClusters(run.stdout);

    // S3 calls are REST (no X-Amz-Target): the staged channel is checked below instead.
    expect(operations()).toEqual([
      'CreateTrainingJob',
      'BatchGetImage',
      'CreateModel',
      'CreateEndpointConfig',
      'CreateEndpoint',
      'InvokeEndpoint',
      'DeleteEndpoint',
      'DeleteEndpointConfig',
      'DeleteModel',
    ]);
    const job = bodyOf('CreateTrainingJob') as {
      HyperParameters: Record<string, string>;
      Environment: Record<string, string>;
      InputDataConfig: { ChannelName: string; ContentType: string }[];
    };
    expect([job.HyperParameters, job.Environment]).toEqual([{ k: '3', feature_dim: '4' }, { SMKIT_ALGORITHM: 'kmeans' }]);
    expect(job.InputDataConfig.map((c) => [c.ChannelName, c.ContentType])).toEqual([['train', 'text/csv']]);
    const staged = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'iris-kmeans-test/input/train/iris.csv' }),
    );
    expect((await staged.Body!.transformToString()).trim().split('\n')).toHaveLength(112);
    const created = bodyOf('CreateModel') as { PrimaryContainer: { Image: string; ModelDataUrl: string } };
    expect(created.PrimaryContainer.Image).toBe(image);
    const invoke = proxy.seen.find((r) => r.url.endsWith('/invocations'))!;
    expect(invoke.body.toString('utf8')).toBe(await readFile(path.join(dir(), 'test.csv'), 'utf8'));
    // Torn down: nothing left on the emulator.
    expect((await sagemaker.send(new ListEndpointsCommand({}))).Endpoints).toEqual([]);
    expect((await sagemaker.send(new ListModelsCommand({}))).Models).toEqual([]);
  });
});
