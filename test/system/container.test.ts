/**
 * The smkit image run as SageMaker runs it: `docker run -v JOB:/opt/ml IMAGE train` and
 * `docker run IMAGE serve`, on the host network (or none) only, with loopback addresses.
 * The image is built once by docker-setup.ts (the global setup).
 */
import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkpointOnSigtermScript } from '../support/checkpoint-script.js';
import { docker, layersAboveBase } from '../../scripts/docker-image.js';
import type { SageMakerPaths } from '../../src/contract/index.js';
import { decodeNDArrayList, encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { encodeNpy } from '../../src/io/npy.js';
import { createJobTree } from '../train/job-tree.js';
import {
  CENTERS,
  clusteredRows,
  feedFifo,
  freePort,
  logsOf,
  makeFifo,
  runContainer,
  startContainer,
  toCsv,
  toRecordIO,
  waitForExit,
  waitForPing,
} from './container-helpers.js';
import { BASE_IMAGE, SMKIT_IMAGE } from './docker-names.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function job(files: Parameters<typeof createJobTree>[0]): Promise<SageMakerPaths> {
  const paths = await createJobTree(files);
  dirs.push(paths.base);
  return paths;
}

const mount = (paths: SageMakerPaths) => ['-v', `${paths.base}:/opt/ml`];
const failureOf = (paths: SageMakerPaths) => readFile(paths.failure, 'utf8');
const ROWS = clusteredRows();

/** The centroids in a k-means model_algo-1, each rounded, sorted for comparison with CENTERS. */
async function roundedCentroids(paths: SageMakerPaths): Promise<number[][]> {
  const [centroids] = decodeNDArrayList(await readFile(path.join(paths.model, 'model_algo-1'))).arrays;
  const [k, dim] = centroids!.shape as [number, number];
  const rows = Array.from({ length: k }, (_, i) =>
    Array.from(centroids!.data.subarray(i * dim, (i + 1) * dim), (v) => Math.round(v) || 0),
  );
  return rows.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
}
const SORTED_CENTERS = [...CENTERS].map((c) => [...c]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);

const KMEANS_HPS = { smkit_algorithm: 'kmeans', k: '3', feature_dim: '4' };
const PCA_HPS = { smkit_algorithm: 'pca', num_components: '2', feature_dim: '4', mini_batch_size: '500' };

/** PCA's model_algo-1: mean (1 x 4), s (2) and v (4 x 2), under those names. */
async function expectPcaModel(paths: SageMakerPaths): Promise<void> {
  const model = decodeNDArrayList(await readFile(path.join(paths.model, 'model_algo-1')));
  expect(model.names).toEqual(['mean', 's', 'v']);
  expect(model.arrays.map((a) => a.shape)).toEqual([[1, 4], [2], [4, 2]]);
}

/** Runs a Pipe-mode job: the train_0 FIFO is created and fed with `bytes` from the host. */
async function runPipeJob(
  hyperparameters: Record<string, string>,
  channel: Record<string, unknown>,
  bytes: Buffer | string,
): Promise<SageMakerPaths> {
  const paths = await job({ hyperparameters, inputDataConfig: { train: channel }, resourceConfig: single });
  await mkdir(paths.inputData, { recursive: true });
  const fifo = path.join(paths.inputData, 'train_0');
  await makeFifo(fifo);
  const id = await startContainer(['--network', 'host', ...mount(paths)], ['train']);
  await feedFifo(fifo, bytes, id);
  expect(await waitForExit(id), await logsOf(id)).toBe(0);
  return paths;
}

const SCRIPT_HPS = { sagemaker_program: '"train.js"', epochs: '3' };
const single = { current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' };
const fileChannel = (contentType?: string) => ({
  TrainingInputMode: 'File',
  S3DistributionType: 'FullyReplicated',
  RecordWrapperType: 'None',
  ...(contentType ? { ContentType: contentType } : {}),
});
const pipeChannel = (contentType?: string) => ({ ...fileChannel(contentType), TrainingInputMode: 'Pipe' });

describe('the image', () => {
  test('exec-form entrypoint, root by default, bind-to-port label, at most 150 MB above the base', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', SMKIT_IMAGE));
    expect(config.Entrypoint).toEqual(['node', '/opt/smkit/bin/smkit']);
    expect(config.User).toBe('root');
    expect(config.Labels['com.amazonaws.sagemaker.capabilities.accept-bind-to-port']).toBe('true');
    expect(config.Env).toContain('SMKIT_ALGORITHM=');
    expect(await layersAboveBase(SMKIT_IMAGE, BASE_IMAGE)).toBeLessThanOrEqual(150 * 1024 * 1024);
  });
});

describe.concurrent('docker run IMAGE train', () => {
  test('script mode: the script reads SM_CHANNEL_TRAIN and its --epochs argument and writes SM_MODEL_DIR', async () => {
    const paths = await job({
      hyperparameters: SCRIPT_HPS,
      inputDataConfig: { train: fileChannel('text/csv') },
      resourceConfig: single,
      code: {
        'train.js': `
const fs = require('node:fs');
const rows = fs.readFileSync(process.env.SM_CHANNEL_TRAIN + '/data.csv', 'utf8').trim().split('\\n').length;
const epochs = process.argv[process.argv.indexOf('--epochs') + 1];
console.log('train_rows=' + rows);
const ort = '/opt/smkit/node_modules/onnxruntime-node/bin/napi-v6';
const platforms = fs.readdirSync(ort).flatMap((os) => fs.readdirSync(ort + '/' + os).map((arch) => os + '/' + arch));
const tfjsNode = fs.existsSync('/opt/smkit/node_modules/@tensorflow/tfjs-node');
fs.writeFileSync(process.env.SM_MODEL_DIR + '/model.json', JSON.stringify({ rows, epochs, host: process.env.SM_CURRENT_HOST, user: process.getuid(), platforms, tfjsNode }));
`,
      },
      data: { 'train/data.csv': toCsv(ROWS) },
    });
    const result = await runContainer(['--network', 'host', ...mount(paths)], ['train']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('train_rows=90');
    expect(JSON.parse(await readFile(path.join(paths.model, 'model.json'), 'utf8'))).toEqual({
      rows: 90,
      epochs: '3',
      host: 'algo-1',
      user: 0,
      // onnxruntime-node keeps only this architecture's Linux binaries; no tfjs-node.
      platforms: [`linux/${os.arch()}`],
      tfjsNode: false,
    });
  });

  test('a failing script: exit code non-zero and the error in output/failure', async () => {
    const paths = await job({
      hyperparameters: SCRIPT_HPS,
      resourceConfig: single,
      code: { 'train.js': "throw new Error('the learning rate is negative');\n" },
    });
    const result = await runContainer(['--network', 'host', ...mount(paths)], ['train']);
    expect(result.code).not.toBe(0);
    expect(await failureOf(paths)).toContain('the learning rate is negative');
    expect(await readFile(path.join(paths.model, 'model.json'), 'utf8').catch(() => 'absent')).toBe('absent');
  });

  test('docker stop during training: SIGTERM reaches the script, its checkpoint is kept, exit well within 120 s', async () => {
    const paths = await job({
      hyperparameters: SCRIPT_HPS,
      resourceConfig: single,
      code: {
        'train.js': checkpointOnSigtermScript(7),
      },
    });
    const id = await startContainer(['--network', 'host', ...mount(paths)], ['train']);
    const started = path.join(paths.outputData, 'started');
    for (let i = 0; !(await stat(started).catch(() => undefined)); i++) {
      if (i > 1200) throw new Error(`the script never started; logs:\n${await logsOf(id)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const stopping = Date.now();
    await docker('stop', '-t', '120', id);
    const seconds = (Date.now() - stopping) / 1000;
    expect(seconds).toBeLessThan(30);
    expect(await waitForExit(id), await logsOf(id)).toBe(0);
    expect(await readFile(path.join(paths.checkpoints, 'ckpt.json'), 'utf8')).toBe('{"epoch":7}');
  });

  test('script mode as a non-root user (--user 1000:1000) writes files that user owns', async () => {
    const paths = await job({
      hyperparameters: SCRIPT_HPS,
      resourceConfig: single,
      code: {
        'train.js': `require('node:fs').writeFileSync(process.env.SM_MODEL_DIR + '/model.json', JSON.stringify({ user: process.getuid() }));\n`,
      },
    });
    await mkdir(paths.model, { recursive: true });
    await mkdir(paths.output, { recursive: true });
    await mkdir(paths.checkpoints, { recursive: true });
    for (const dir of [paths.base, paths.model, paths.output, paths.checkpoints])
      await chown(dir, 1000, 1000);
    const result = await runContainer(
      ['--network', 'host', '--user', '1000:1000', ...mount(paths)],
      ['train'],
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(JSON.parse(await readFile(path.join(paths.model, 'model.json'), 'utf8'))).toEqual({ user: 1000 });
    expect((await stat(path.join(paths.model, 'model.json'))).uid).toBe(1000);
  });

  test('k-means on CSV in File mode, with --network none and a read-only root filesystem (tmpfs /tmp)', async () => {
    const paths = await job({
      hyperparameters: KMEANS_HPS,
      inputDataConfig: { train: fileChannel('text/csv') },
      resourceConfig: single,
      data: { 'train/data.csv': toCsv(ROWS) },
    });
    const options = ['--network', 'none', '--read-only', '--tmpfs', '/tmp', ...mount(paths)];
    const result = await runContainer(options, ['train']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await roundedCentroids(paths)).toEqual(SORTED_CENTERS);
  });

  test('k-means on RecordIO-protobuf in Pipe mode, the FIFO fed from the host', async () => {
    const paths = await runPipeJob(KMEANS_HPS, pipeChannel(), toRecordIO(ROWS));
    expect(await roundedCentroids(paths)).toEqual(SORTED_CENTERS);
  });

  test('PCA on RecordIO-protobuf in File mode (no ContentType, as record_set sends it)', async () => {
    const paths = await job({
      hyperparameters: PCA_HPS,
      inputDataConfig: { train: fileChannel() },
      resourceConfig: single,
    });
    await mkdir(path.join(paths.inputData, 'train'), { recursive: true });
    await writeFile(path.join(paths.inputData, 'train', 'part-0.pbr'), toRecordIO(ROWS));
    const result = await runContainer(['--network', 'host', ...mount(paths)], ['train']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    await expectPcaModel(paths);
  });

  test('PCA on CSV in Pipe mode, the FIFO fed from the host', async () => {
    await expectPcaModel(await runPipeJob(PCA_HPS, pipeChannel('text/csv'), toCsv(ROWS)));
  });

  test('two training containers as algo-1/algo-2 on 127.0.0.2/127.0.0.3: k-means over both shards', async () => {
    const hosts = ['algo-1', 'algo-2'];
    const shards = [ROWS.filter((_, i) => i % 2 === 0), ROWS.filter((_, i) => i % 2 === 1)];
    const jobs = await Promise.all(
      hosts.map((host, i) =>
        job({
          hyperparameters: KMEANS_HPS,
          inputDataConfig: { train: { ...fileChannel('text/csv'), S3DistributionType: 'ShardedByS3Key' } },
          resourceConfig: { current_host: host, hosts, network_interface_name: 'eth0' },
          data: { [`train/part-${i}.csv`]: toCsv(shards[i]!) },
        }),
      ),
    );
    const addHosts = ['--add-host', 'algo-1:127.0.0.2', '--add-host', 'algo-2:127.0.0.3'];
    const ids = await Promise.all(
      jobs.map((paths) => startContainer(['--network', 'host', ...addHosts, ...mount(paths)], ['train'])),
    );
    const codes = await Promise.all(ids.map(waitForExit));
    expect(codes, (await Promise.all(ids.map(logsOf))).join('\n----\n')).toEqual([0, 0]);
    // Only the leader writes the model, from both hosts' summaries.
    expect(await roundedCentroids(jobs[0]!)).toEqual(SORTED_CENTERS);
  });
});

/** A model directory mounted read-only into serving containers. */
async function modelDir(files: Record<string, Buffer | string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-model-'));
  dirs.push(dir);
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  return dir;
}

const KMEANS_MODEL = encodeNDArrayList({
  arrays: [{ shape: [3, 4], data: Float32Array.from(CENTERS.flat()) }],
  names: [],
});

describe.concurrent('docker run IMAGE serve', () => {
  test('k-means model mounted read-only, read-only root, SAGEMAKER_BIND_TO_PORT: /ping, /invocations with CSV, JSON, JSON Lines, RecordIO and NPY bodies, 404', async () => {
    const model = await modelDir({ 'model_algo-1': KMEANS_MODEL });
    const port = await freePort();
    const id = await startContainer(
      [
        '--network',
        'host',
        '--read-only',
        '--tmpfs',
        '/tmp',
        '-v',
        `${model}:/opt/ml/model:ro`,
        '-e',
        `SAGEMAKER_BIND_TO_PORT=${port}`,
      ],
      ['serve'],
    );
    await waitForPing(port, id);
    const url = `http://127.0.0.1:${port}`;
    const ping = await fetch(`${url}/ping`);
    expect([ping.status, await ping.text()]).toEqual([200, '']);

    const invoke = async (headers: Record<string, string>, body: string | Buffer) => {
      const reply = await fetch(`${url}/invocations`, { method: 'POST', headers, body });
      return [reply.status, reply.headers.get('content-type'), await reply.text()];
    };
    const npyBody = encodeNpy({
      dtype: 'float32',
      shape: [2, 4],
      data: Float32Array.from([0, 0, 0, 1, 10, 10, 10, 12]),
    });
    const cases: [Record<string, string>, string | Buffer, string, string][] = [
      [
        { 'Content-Type': 'text/csv', Accept: 'text/csv' },
        '10,10,10,10\n-10,10,-10,10\n',
        'text/csv',
        '1.0,0.0\n2.0,0.0\n',
      ],
      [
        { 'Content-Type': 'application/json' },
        JSON.stringify({ instances: [{ features: [0, 0, 0, 1] }] }),
        'application/json',
        '{"predictions": [{"closest_cluster": 0.0, "distance_to_cluster": 1.0}]}',
      ],
      [
        { 'Content-Type': 'application/x-recordio-protobuf', Accept: 'application/json' },
        toRecordIO([[10, 10, 10, 11]]),
        'application/json',
        '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 1.0}]}',
      ],
      // The SageMaker Python SDK's NumpySerializer: a float32 2-D .npy body.
      [
        { 'Content-Type': 'application/x-npy' },
        npyBody,
        'application/json',
        '{"predictions": [{"closest_cluster": 0.0, "distance_to_cluster": 1.0}, ' +
          '{"closest_cluster": 1.0, "distance_to_cluster": 2.0}]}',
      ],
      // JSON Lines in and out (SageMaker's own order of k-means fields in JSON Lines: distance first).
      [
        { 'Content-Type': 'application/jsonlines', Accept: 'application/jsonlines' },
        '{"features": [-10, 10, -10, 13]}\n{"features": [0, 0, 0, 0]}\n',
        'application/jsonlines',
        '{"distance_to_cluster": 3.0, "closest_cluster": 2.0}\n{"distance_to_cluster": 0.0, "closest_cluster": 0.0}\n',
      ],
    ];
    for (const [headers, body, type, text] of cases) {
      expect(await invoke(headers, body), JSON.stringify(headers)).toEqual([200, type, text]);
    }
    const unsupported = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: 'x',
    });
    expect(unsupported.status).toBe(415);
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
    // Nothing listens on 8080 on the container's behalf: the port came from SAGEMAKER_BIND_TO_PORT.
    await docker('stop', id);
    expect(await waitForExit(id)).toBe(0);
  });

  test('docker stop drains an in-flight request and exits within 30 s', async () => {
    const model = await modelDir({
      'code/inference.js': `
exports.model_fn = async () => ({});
exports.transform_fn = async () => { await new Promise((r) => setTimeout(r, 3000)); return '{"slow":true}'; };
`,
    });
    const port = await freePort();
    const id = await startContainer(
      ['--network', 'host', '-v', `${model}:/opt/ml/model:ro`, '-e', `SAGEMAKER_BIND_TO_PORT=${port}`],
      ['serve'],
    );
    await waitForPing(port, id);
    const inFlight = fetch(`http://127.0.0.1:${port}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"x": 1}',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopping = Date.now();
    await docker('stop', '-t', '30', id);
    expect((Date.now() - stopping) / 1000).toBeLessThan(30);
    const reply = await inFlight;
    expect([reply.status, await reply.text()], await logsOf(id)).toEqual([
      200,
      expect.stringContaining('"slow"'),
    ]);
    expect(await waitForExit(id)).toBe(0);
  });
});
