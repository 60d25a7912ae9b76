/**
 * The package as a user gets it: `npm pack`, installed into an empty folder, then a k-means
 * `model_algo-1` served through the public subpath exports only (`smkit/serve`, `smkit/io`), with
 * nothing registered by hand. No Docker: slow only because of the pack and the install.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

/**
 * Way (4) from the documented snippets alone: every TypeScript block of docs/library.md is compiled in
 * the user's folder against the installed package's declarations (not the sources), and the
 * documented algorithm (the block that exports `featureMean`) is emitted, trained by `smkit/train`
 * and served by `smkit`'s built-in kind made from the same list.
 */
const SNIPPET_DRIVER = `
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtinAlgorithms } from 'smkit/algorithms';
import { runTrainingJob } from 'smkit/train';
import { createApp, createBuiltinModelKind, createLogger, defaultModelKinds, loadServingModel, readServingSettings } from 'smkit';
import { featureMean } from './out/algorithm.js';

const base = await mkdtemp(path.join(os.tmpdir(), 'smkit-package-snippet-'));
await mkdir(path.join(base, 'input/config'), { recursive: true });
await mkdir(path.join(base, 'input/data/train'), { recursive: true });
const json = (name, value) => writeFile(path.join(base, 'input/config', name), JSON.stringify(value));
await json('hyperparameters.json', { smkit_algorithm: 'feature-mean', feature_dim: '2' });
await json('resourceconfig.json', { current_host: 'algo-1', hosts: ['algo-1'] });
await json('inputdataconfig.json', { train: { ContentType: 'text/csv', TrainingInputMode: 'File' } });
await writeFile(path.join(base, 'input/data/train/rows.csv'), '0,0\\n2,4\\n4,8\\n');
const algorithms = [...builtinAlgorithms, featureMean];
const code = await runTrainingJob({ env: { SAGEMAKER_BASE_DIR: base }, algorithms });
const kinds = defaultModelKinds.map((kind) => (kind.name === 'builtin' ? createBuiltinModelKind(algorithms) : kind));
const handler = await loadServingModel(path.join(base, 'model'), { kinds });
const settings = readServingSettings(process.env);
const app = createApp({ handler, settings, log: createLogger(settings.logLevel) });
const answer = await app.request('/invocations', {
  method: 'POST',
  headers: { 'Content-Type': 'text/csv', Accept: 'application/json' },
  body: '2,4\\n5,8\\n',
});
console.log(JSON.stringify({ code, kind: handler.kind, status: answer.status, body: await answer.text() }));
await app.close();
`;

test('the docs/library.md snippets build against the installed package, and its algorithm trains and serves', async () => {
  const { readDocBlocks } = await import('../docs/markdown-blocks.js');
  const blocks = readDocBlocks(root).filter((b) => b.file === 'docs/library.md' && b.lang === 'ts');
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  const snippets = path.join(dir, 'snippets');
  await mkdir(snippets, { recursive: true });
  const names: string[] = [];
  for (const block of blocks) {
    const name = block.code.includes('export const featureMean') ? 'algorithm.ts' : `block-${block.line}.ts`;
    names.push(name);
    await writeFile(path.join(snippets, name), `${block.code}\nexport {};\n`);
  }
  expect(names).toContain('algorithm.ts');
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        // @types/node is the repository's: the user's folder installed only smkit.
        typeRoots: [path.join(root, 'node_modules/@types')],
        rootDir: 'snippets',
        outDir: 'out',
      },
      include: names.map((name) => `snippets/${name}`),
    }),
  );
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => '',
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  expect(compiled).toBe('');
  await writeFile(path.join(dir, 'snippet-driver.mjs'), SNIPPET_DRIVER);
  const { stdout } = await run('node', ['snippet-driver.mjs'], {
    cwd: dir,
    env: { ...process.env, SAGEMAKER_CONTAINER_LOG_LEVEL: '30' },
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
    code: 0,
    kind: 'feature-mean',
    status: 200,
    // The mean is (2, 4): distances 0 and 5.
    body: '{"predictions": [{"distance_to_mean": 0.0}, {"distance_to_mean": 5.0}]}',
  });
}, 300_000);
