/**
 * The package as a user gets it: `npm pack`, installed into an empty folder, then a k-means
 * `model_algo-1` served through the public subpath exports only (`smkit/serve`, `smkit/io`), with
 * nothing registered by hand. No Docker: slow only because of the pack and the install.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-package-'));
  // `prepare` builds dist/ first, as for a publish.
  await run('npm', ['pack', '--pack-destination', dir], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'user-app', private: true, type: 'module' }),
  );
  // onnxruntime-node's postinstall would fetch CUDA binaries from a host this machine cannot reach.
  await writeFile(path.join(dir, '.npmrc'), 'onnxruntime-node-install=skip\nfund=false\naudit=false\n');
  await run('npm', ['install', '--no-save', `./${tarball}`], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The user's program: writes a model with `smkit/io`, serves it with `smkit/serve`, prints one JSON line. */
const PROGRAM = `
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeNDArrayList } from 'smkit/io';
import { createApp, createLogger, loadServingModel, readServingSettings } from 'smkit/serve';
import * as root from 'smkit';

const modelDir = await mkdtemp(path.join(os.tmpdir(), 'smkit-package-model-'));
const centroids = new Float32Array([0, 0, 0, 0, 10, 10, 10, 10, 1, 2, 3, 4]);
await writeFile(path.join(modelDir, 'model_algo-1'), encodeNDArrayList({ arrays: [{ shape: [3, 4], data: centroids }], names: [] }));

const handler = await loadServingModel(modelDir);
const settings = readServingSettings(process.env);
const app = createApp({ handler, settings, log: createLogger(settings.logLevel) });
const answer = await app.request('/invocations', {
  method: 'POST',
  headers: { 'Content-Type': 'text/csv', Accept: 'application/json' },
  body: '1,2,3,4\\n9,9,9,9\\n',
});
const internal = await import('smkit/dist/src/serve/app.js').then(() => 'importable', (error) => error.code);
console.log(JSON.stringify({
  kind: handler.kind,
  status: answer.status,
  contentType: answer.headers.get('content-type'),
  body: await answer.text(),
  rootExportsServe: typeof root.loadServingModel,
  // The worker threads loaded the same model from the installed files (dist/, no TypeScript).
  threadsReady: await handler.threadsReady,
  internal,
}));
await app.close();
`;

test('loadServingModel from the installed package serves a k-means prediction', async () => {
  await writeFile(path.join(dir, 'serve.mjs'), PROGRAM);
  const { stdout } = await run('node', ['serve.mjs'], {
    cwd: dir,
    // Logs at warn and above only, so stdout is the program's one line.
    env: { ...process.env, SAGEMAKER_CONTAINER_LOG_LEVEL: '30' },
  });
  const line = stdout.trim().split('\n').at(-1)!;
  expect(JSON.parse(line)).toEqual({
    kind: 'kmeans',
    status: 200,
    contentType: 'application/json',
    // SageMaker's own spelling: spaces after separators, floats with a decimal point.
    body:
      '{"predictions": [{"closest_cluster": 2.0, "distance_to_cluster": 0.0}, ' +
      '{"closest_cluster": 1.0, "distance_to_cluster": 2.0}]}',
    rootExportsServe: 'function',
    threadsReady: true,
    internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
  });
});

/**
 * The user's training entry: a job tree under SAGEMAKER_BASE_DIR, the built-in k-means named by
 * `smkit_algorithm`, run through `smkit/train` with the list from `smkit/algorithms`.
 */
const TRAIN_PROGRAM = `
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtinAlgorithms } from 'smkit/algorithms';
import { runTrainingJob } from 'smkit/train';

const base = await mkdtemp(path.join(os.tmpdir(), 'smkit-package-job-'));
await mkdir(path.join(base, 'input/config'), { recursive: true });
await mkdir(path.join(base, 'input/data/train'), { recursive: true });
const json = (name, value) => writeFile(path.join(base, 'input/config', name), JSON.stringify(value));
await json('hyperparameters.json', { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2', mini_batch_size: '4' });
await json('resourceconfig.json', { current_host: 'algo-1', hosts: ['algo-1'] });
await json('inputdataconfig.json', { train: { ContentType: 'text/csv', TrainingInputMode: 'File' } });
await writeFile(path.join(base, 'input/data/train/rows.csv'), '0,0\\n0,1\\n1,0\\n10,10\\n10,11\\n11,10\\n');
const code = await runTrainingJob({ env: { SAGEMAKER_BASE_DIR: base }, algorithms: builtinAlgorithms });
console.log(JSON.stringify({ code, model: (await readdir(path.join(base, 'model'))).sort() }));
`;

test('a training job runs through smkit/train from the installed package', async () => {
  await writeFile(path.join(dir, 'train.mjs'), TRAIN_PROGRAM);
  const { stdout } = await run('node', ['train.mjs'], {
    cwd: dir,
    env: { ...process.env, SAGEMAKER_CONTAINER_LOG_LEVEL: '30' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').at(-1)!;
  expect(JSON.parse(line)).toEqual({ code: 0, model: ['model.json', 'model.onnx', 'model_algo-1'] });
});
