/**
 * The four ways, end to end, as a user runs them from the repo root: each example's run.ts with the
 * flags its README shows, asserting what it prints (and, for the AWS legs, the requests moto_server
 * received through a recording proxy and what it holds afterwards). Local legs need no Docker;
 * examples 3 and 4 also run in images (the smkit image, and images built from example 4's Dockerfiles).
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
  registerImage,
  type SeenRequest,
  startMoto,
  startRecordingProxy,
  targetOf,
} from './aws-helpers.js';
import { BASE_IMAGE, SMKIT_IMAGE } from './docker-names.js';
import { buildImage, echoedCommands, ROLE, root, runExample } from './examples-helpers.js';

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
  expect(
    Object.fromEntries([...rows].map(([name, counts]) => [name, counts.reduce((a, b) => a + b)])),
  ).toEqual(
    Object.fromEntries(
      ['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'].map((s) => [
        s,
        species.filter((x) => x === s).length,
      ]),
    ),
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
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit local train',
      'smkit local serve',
      'smkit local invoke',
    ]);
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
    expect([job.HyperParameters, job.Environment]).toEqual([
      { k: '3', feature_dim: '4' },
      { SMKIT_ALGORITHM: 'kmeans' },
    ]);
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

describe('example 2: models trained elsewhere (ONNX, TF.js) on the stock server', () => {
  const dir = () => path.join(work, 'example-2');

  test('--local: both archives served by smkit local serve answer CSV and JSON; 37 of 38 right', async () => {
    const run = await runExample('2-bring-your-own-model', ['--local', '--work', dir()]);
    expect(run.code, run.stderr).toBe(0);
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit local serve',
      'smkit local invoke',
      'smkit local invoke',
      'smkit local serve',
      'smkit local invoke',
      'smkit local invoke',
    ]);
    // The ONNX model answers its two outputs (label, then probabilities); TF.js its one.
    expect(run.stdout).toMatch(
      /^== onnx: \S*onnx\/model.tar.gz\n(?:\$ .*\n){2}0\.0,0\.99833\d*,0\.00166\d*,6\.9\d*e-11\n1\.0,/m,
    );
    expect(run.stdout).toMatch(
      /^{"label":0,"probabilities":\[0\.99833\d*,0\.00166\d*,6\.9\d*e-11\]} \.\.\.$/m,
    );
    expect(run.stdout).toMatch(
      /^== tfjs: \S*tfjs\/model.tar.gz\n(?:\$ .*\n){2}0\.99833\d*,0\.00166\d*,6\.9\d*e-11\n/m,
    );
    expect(run.stdout).toMatch(/^{"probabilities":\[0\.99833\d*,0\.00166\d*,6\.9\d*e-11\]} \.\.\.$/m);
    expect(run.stdout).toContain('onnx: 37 of 38 test rows predicted as their species\n');
    expect(run.stdout).toContain('tfjs: 37 of 38 test rows predicted as their species\n');
  });

  test('--aws against moto: each archive uploaded as it was packaged, deployed, invoked, torn down', async () => {
    const image = await registerImage(moto.endpoint, 'smkit', '1');
    const run = await runExample('2-bring-your-own-model', [
      '--aws',
      '--image',
      image,
      '--role',
      ROLE,
      '--endpoint-url',
      proxy.endpoint,
      '--work',
      dir(),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit deploy',
      'smkit invoke',
      'smkit teardown iris-onnx',
      'smkit deploy',
      'smkit invoke',
      'smkit teardown iris-tfjs',
    ]);
    for (const name of ['onnx', 'tfjs']) {
      expect(run.stdout).toContain(
        `endpoint iris-${name}: InService (s3://${BUCKET}/smkit/iris-${name}/model.tar.gz)\n`,
      );
      const object = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `smkit/iris-${name}/model.tar.gz` }),
      );
      const uploaded = Buffer.from(await object.Body!.transformToByteArray());
      expect(uploaded.equals(await readFile(path.join(dir(), name, 'model.tar.gz')))).toBe(true);
      const members: string[] = [];
      await tar.t({
        file: path.join(dir(), name, 'model.tar.gz'),
        onReadEntry: (entry) => members.push(entry.path),
      });
      expect(members).toEqual(name === 'onnx' ? ['model.onnx'] : ['model.json', 'weights.bin']);
    }
    expect(run.stdout.match(/^the emulator answered InvokeEndpoint with: /gm)).toHaveLength(2);
    expect(operations().filter((op) => op === 'InvokeEndpoint')).toHaveLength(2);
    expect((await sagemaker.send(new ListEndpointsCommand({}))).Endpoints).toEqual([]);
    expect((await sagemaker.send(new ListModelsCommand({}))).Models).toEqual([]);
  });
});

describe('example 3: script mode in the stock image', () => {
  /** What the run prints after its first line (which says where it ran): the same locally and in Docker. */
  const results = (stdout: string) =>
    stdout
      .split('\n')
      .slice(1)
      .filter((line) => !line.startsWith('$ '))
      .join('\n');

  const expectResults = async (run: CliRun, dir: string) => {
    expect(run.code, run.stderr).toBe(0);
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit local train',
      'smkit local serve',
      'smkit local invoke',
      'smkit local invoke',
    ]);
    expect(results(run.stdout)).toBe(
      [
        'training Completed; train:accuracy 0.9196',
        '',
        'Iris-setosa,0.66',
        'Iris-versicolor,0.278',
        'Iris-virginica,0.485',
        '...',
        '[{"species":"Iris-setosa","distance":0.66},{"species":"Iris-versicolor","distance":0.278}] ...',
        '',
        'CSV and JSON answers agree',
        '35 of 38 test rows predicted as their species',
        '',
      ].join('\n'),
    );
    // The model holds what train.ts wrote: the centroids and the inference hooks, no dependencies.
    const members: string[] = [];
    await tar.t({
      file: path.join(dir, 'model/model.tar.gz'),
      onReadEntry: (entry) => members.push(entry.path),
    });
    expect(members.filter((m) => !m.endsWith('/')).sort()).toEqual(['centroids.json', 'code/inference.ts']);
  };

  test.concurrent('without Docker: train.ts gets its npm dependency, inference.ts serves the model', async () => {
    const dir = path.join(work, 'example-3-local');
    const run = await runExample('3-script-mode', ['--work', dir]);
    expect(run.stdout).toMatch(/^== as local processes \(no Docker\)\n/);
    await expectResults(run, dir);
  });

  test.concurrent('--image: the same in the smkit image', async () => {
    const dir = path.join(work, 'example-3-docker');
    const run = await runExample('3-script-mode', ['--image', SMKIT_IMAGE, '--work', dir]);
    expect(run.stdout).toMatch(/^== in the image smkit:system-test/);
    await expectResults(run, dir);
  });
});

describe('example 4: a container of your own', () => {
  const context = path.join(root, 'examples/4-own-container');
  const fromSmkit = `${SMKIT_IMAGE}-own`;
  const fromNpm = `${SMKIT_IMAGE}-own-npm`;
  afterAll(async () => {
    await mustRun('docker', ['rmi', '-f', fromSmkit, fromNpm]);
  });

  /** What run.ts must print, computed here from the data and linear.json, not from smkit. */
  async function expectedResults(): Promise<string> {
    const read = async (file: string) =>
      (await readFile(path.join(root, 'examples/data/iris', file), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => ({
          label: line.split(',')[0]!,
          row: line.split(',').slice(1).join(','),
          x: line.split(',').slice(1).map(Number),
        }));
    const train = await read('iris_train.csv');
    const test = await read('iris_test.csv');
    const mean = [0, 1, 2, 3].map((j) => train.reduce((sum, r) => sum + r.x[j]!, 0) / train.length);
    const std = [0, 1, 2, 3].map((j) =>
      Math.sqrt(train.reduce((sum, r) => sum + r.x[j]! ** 2, 0) / train.length - mean[j]! ** 2),
    );
    const scores = test.map((r) => Math.max(...r.x.map((v, j) => Math.abs(v - mean[j]!) / std[j]!)));
    const top = scores
      .map((score, i) => [i, score] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3);
    const linear = JSON.parse(await readFile(path.join(context, 'linear-model/linear.json'), 'utf8')) as {
      weights: number[];
      bias: number;
    };
    const widths = test.map((r) => r.x.reduce((sum, v, j) => sum + v * linear.weights[j]!, linear.bias));
    const error = widths.reduce((sum, w, i) => sum + Math.abs(w - test[i]!.x[3]!), 0) / test.length;
    return [
      '== the zscore algorithm (zscore.ts), trained and served in the image',
      'training Completed',
      'the most unusual test rows (largest |z| of a feature):',
      ...top.map(
        ([i, score]) => `  ${test[i]!.label.padEnd(16)} ${test[i]!.row.padEnd(16)} score ${score.toFixed(3)}`,
      ),
      '',
      '== linear-model/linear.json, served by the custom model kind (linear-kind.ts)',
      ...[0, 1, 2].map(
        (i) =>
          `  ${test[i]!.row.padEnd(16)} petal_width ${widths[i]!.toFixed(2)} (actual ${test[i]!.row.split(',')[3]})`,
      ),
      `mean absolute error over 38 test rows: ${error.toFixed(3)}`,
      '',
    ].join('\n');
  }

  const results = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => !line.startsWith('$ '))
      .join('\n');

  test.concurrent('FROM the smkit image: trains zscore and serves it, serves linear.json through the custom kind', async () => {
    await buildImage(context, fromSmkit, { SMKIT_IMAGE });
    const run = await runExample('4-own-container', [
      '--image',
      fromSmkit,
      '--work',
      path.join(work, 'example-4'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(echoedCommands(run.stdout)).toEqual([
      'smkit local train',
      'smkit local serve',
      'smkit local invoke',
      'smkit local serve',
      'smkit local invoke',
    ]);
    expect(results(run.stdout)).toBe(await expectedResults());
  });

  test.concurrent('npm pack installed into a plain Node image (Dockerfile.npm): the same answers', async () => {
    // The folder as a user has it: this example's files plus the tarball `npm pack` writes.
    const folder = path.join(work, 'example-4-npm');
    await mkdir(folder, { recursive: true });
    for (const file of await readdir(context)) {
      if (file !== 'out') await mustRun('cp', ['-r', path.join(context, file), folder]);
    }
    await mustRun('npm', ['pack', '--pack-destination', folder], { cwd: root });
    await buildImage(folder, fromNpm, { BASE_IMAGE }, path.join(folder, 'Dockerfile.npm'));
    const run = await runExample('4-own-container', [
      '--image',
      fromNpm,
      '--work',
      path.join(work, 'example-4-npm-out'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(results(run.stdout)).toBe(await expectedResults());
  }, 1_800_000); // npm pack, then npm install of every dependency inside the build: minutes on vfs
});
