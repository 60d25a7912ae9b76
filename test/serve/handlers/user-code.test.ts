import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { loadModel } from '../../../src/serve/kinds/kind.js';
import { defaultModelKinds as kinds } from '../../../src/serve/kinds/index.js';
import { quietLog, request, settingsFrom, type TestServer } from '../helpers.js';
import { makeOnnxFixtures, type OnnxFixtures } from './fixtures.js';
import { serveModel } from './serve-model.js';

let root: string;
let fixtures: OnnxFixtures;
let server: TestServer | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'smkit-user-code-'));
  fixtures = await makeOnnxFixtures();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await fixtures.remove();
});

let count = 0;
/** A model dir with `files` (relative path -> text); `onnx` copies a fixture model.onnx in. */
async function modelDir(files: Record<string, string>, onnx?: string): Promise<string> {
  const dir = path.join(root, `model-${count++}`);
  await mkdir(path.join(dir, 'code'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  if (onnx) await copyFile(path.join(fixtures.dir, onnx, 'model.onnx'), path.join(dir, 'model.onnx'));
  return dir;
}

const post = (body: string, headers: Record<string, string>) => request(server!.url, { headers, body });

const FULL_HOOKS = `
export async function modelFn(modelDir, context) {
  return { scale: 2, dir: modelDir, hasLogger: typeof context.logger.info === 'function' };
}
export function inputFn(body, contentType, context) {
  if (contentType !== 'text/plain') {
    throw Object.assign(new Error('send text/plain numbers separated by spaces'), { status: 415 });
  }
  return body.toString().trim().split(/\\s+/).map(Number);
}
export async function predictFn(data, model, context) {
  if (context.customAttributes === 'echo') context.setCustomAttributes('seen=' + context.requestId);
  if (data.some(Number.isNaN)) throw new Error('a NaN reached the model');
  return data.map((x) => x * model.scale);
}
export function outputFn(prediction, accept, context) {
  return { body: prediction.join(' ') + ' ' + accept + ' ' + context.modelDir.endsWith(context.modelDir.split('/').pop()), contentType: 'text/plain' };
}
`;

describe('hooks in code/inference.mjs', () => {
  test('modelFn, inputFn, predictFn and outputFn each get the context last', async () => {
    server = await serveModel(await modelDir({ 'code/inference.mjs': FULL_HOOKS }));
    const reply = await post('1 2 3', { 'Content-Type': 'text/plain', Accept: 'text/plain' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain');
    expect(reply.text).toBe('2 4 6 text/plain true');
  });

  test('custom attributes are echoed only when a hook sets them', async () => {
    server = await serveModel(await modelDir({ 'code/inference.mjs': FULL_HOOKS }));
    const plain = await post('1', {
      'Content-Type': 'text/plain',
      'X-Amzn-SageMaker-Custom-Attributes': 'other',
    });
    expect(plain.headers['x-amzn-sagemaker-custom-attributes']).toBeUndefined();
    const echoed = await post('1', {
      'Content-Type': 'text/plain',
      'X-Amzn-SageMaker-Custom-Attributes': 'echo',
    });
    expect(echoed.headers['x-amzn-sagemaker-custom-attributes']).toMatch(/^seen=\S+-[0-9a-z]+$/);
  });

  test('a hook error with a status keeps it; any other error is a 500 with a request id', async () => {
    server = await serveModel(await modelDir({ 'code/inference.mjs': FULL_HOOKS }));
    const unsupported = await post('1', { 'Content-Type': 'text/csv' });
    expect(unsupported.status).toBe(415);
    expect(unsupported.json()).toMatchObject({ message: 'send text/plain numbers separated by spaces' });
    const crashed = await post('x', { 'Content-Type': 'text/plain' });
    expect(crashed.status).toBe(500);
    expect((crashed.json() as { requestId: string }).requestId).toMatch(/\S/);
  });
});

describe('TypeScript and CommonJS modules, snake_case names', () => {
  test('code/inference.ts with a typed transformFn loads through tsx', async () => {
    const source = `
interface Model { offset: number }
export const model_fn = (_dir: string): Model => ({ offset: 10 });
export async function transform_fn(model: Model, body: Buffer, contentType: string, accept: string) {
  const values: number[] = JSON.parse(body.toString());
  return { body: JSON.stringify({ sums: values.map((v) => v + model.offset), contentType, accept }), contentType: 'application/json' };
}
`;
    server = await serveModel(await modelDir({ 'code/inference.ts': source }));
    const reply = await post('[1, 2]', { 'Content-Type': 'application/json' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      sums: [11, 12],
      contentType: 'application/json',
      accept: 'application/json',
    });
  });

  test('a CommonJS inference.js (module.exports) with predict_fn and a plain-value answer', async () => {
    const source = `module.exports = {
  model_fn: () => ({ predict: (rows) => rows.length }),
  predict_fn: async (data, model) => ({ rows: model.predict(data.batch.rows ? Array(data.batch.rows) : []), dim: data.batch.dim }),
};`;
    server = await serveModel(await modelDir({ 'code/inference.js': source }));
    const reply = await post('[[1, 2], [3, 4], [5, 6]]', { 'Content-Type': 'application/json' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"rows":3,"dim":2}');
  });
});

describe('defaults around an ONNX model', () => {
  test('no modelFn: the ONNX model next to the code is loaded; inputFn output feeds it', async () => {
    const source = `export const inputFn = (body) => [body.toString().trim().split(' ').map(Number)];`;
    server = await serveModel(await modelDir({ 'code/inference.mjs': source }, 'linear'));
    const reply = await post('1 2 3', { 'Content-Type': 'text/plain' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"predictions": [{"y": [14.5]}]}');
  });

  test('only an outputFn: the codecs decode, the ONNX model predicts, the hook formats', async () => {
    const source = `export const outputFn = (outputs, accept) => ({ y: Array.from(outputs.y.data), shape: outputs.y.shape, accept });`;
    server = await serveModel(await modelDir({ 'code/inference.mjs': source }, 'linear'));
    const reply = await post('[[1, 2, 3], [0, 0, 0]]', {
      'Content-Type': 'application/json',
      Accept: 'application/json',
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ y: [14.5, 0.5], shape: [2, 1], accept: 'application/json' });
  });

  test('a predictFn gets the default ONNX model with its inputs and predict(tensors)', async () => {
    const source = `export async function predictFn(data, model) {
  const input = model.inputs[0];
  const x = { type: input.type, shape: [data.batch.rows, data.batch.dim], data: data.batch.values };
  const outputs = await model.predict({ [input.name]: x });
  return { doubled: { type: 'float64', shape: outputs.y.shape, data: Float64Array.from(outputs.y.data, (v) => v * 2) } };
}`;
    server = await serveModel(await modelDir({ 'code/inference.mjs': source }, 'linear'));
    const reply = await post('[[1, 2, 3]]', {
      'Content-Type': 'application/json',
      Accept: 'application/jsonlines',
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"doubled": [29.0]}\n');
  });

  test('no hooks at all: answers exactly as the ONNX model alone', async () => {
    server = await serveModel(
      await modelDir({ 'code/inference.mjs': 'export const unrelated = 1;' }, 'linear'),
    );
    const reply = await post('[[1, 2, 3]]', { 'Content-Type': 'application/json', Accept: 'text/csv' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('14.5\n');
  });
});

describe('SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY', () => {
  test('the program is loaded from the submit directory', async () => {
    const dir = await modelDir({ 'src/serve.mjs': 'export const transformFn = () => "from submit dir";' });
    server = await serveModel(dir, {
      SAGEMAKER_PROGRAM: 'serve.mjs',
      SAGEMAKER_SUBMIT_DIRECTORY: path.join(dir, 'src'),
    });
    const reply = await post('x', { 'Content-Type': 'text/plain', Accept: 'text/plain' });
    expect(reply.text).toBe('from submit dir');
    expect(reply.headers['content-type']).toBe('text/plain');
  });

  test('a sourcedir.tar.gz submit directory is extracted to a temp dir and its program loaded', async () => {
    const staging = await modelDir({
      'pkg/serve.mjs': 'export const transformFn = () => "from the tarball";',
    });
    const archive = path.join(staging, 'sourcedir.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: path.join(staging, 'pkg') }, ['serve.mjs']);
    server = await serveModel(await modelDir({}), {
      SAGEMAKER_PROGRAM: 'serve.mjs',
      SAGEMAKER_SUBMIT_DIRECTORY: archive,
    });
    const reply = await post('x', { 'Content-Type': 'text/plain', Accept: 'text/plain' });
    expect(reply.text).toBe('from the tarball');
  });
});

describe('mistakes fail the load with a message saying what to change', () => {
  const load = async (files: Record<string, string>, env: Record<string, string> = {}) =>
    loadModel(await modelDir(files), { settings: settingsFrom(env), log: quietLog, kinds });

  test.each([
    [
      'transformFn with inputFn and outputFn',
      {
        'code/inference.mjs':
          'export const transformFn = () => 1; export const inputFn = () => 1; export const outputFn = () => 1;',
      },
      /defines transformFn together with inputFn, outputFn: transformFn replaces inputFn, predictFn and outputFn\. Remove transformFn, or move/,
    ],
    [
      'both spellings of a hook',
      { 'code/inference.mjs': 'export const modelFn = () => 1; export const model_fn = () => 1;' },
      /defines both modelFn and model_fn: keep one of them/,
    ],
    [
      'a hook that is not a function',
      { 'code/inference.mjs': 'export const predict_fn = 3;' },
      /predict_fn must be a function \(got number\)/,
    ],
    [
      'no modelFn and no model file',
      { 'code/inference.mjs': 'export const inputFn = () => 1;' },
      /defines no modelFn, and .* holds no model smkit can load \(model_algo-1, model\.onnx, model\.json\): define modelFn/,
    ],
    ['a syntax error', { 'code/inference.mjs': 'export const = ;' }, /cannot load .*inference\.mjs/],
  ])('%s', async (_name, files, message) => {
    await expect(load(files)).rejects.toThrow(message);
  });

  test('a Python SAGEMAKER_PROGRAM', async () => {
    await expect(load({ 'code/inference.py': '' }, { SAGEMAKER_PROGRAM: 'inference.py' })).rejects.toThrow(
      'SAGEMAKER_PROGRAM=inference.py is not a JavaScript or TypeScript module',
    );
  });

  test('the /ping of a server whose user code is illegal stays 503', async () => {
    const dir = await modelDir({
      'code/inference.mjs': 'export const transformFn = () => 1; export const predictFn = () => 1;',
    });
    server = await serveModel(dir);
    expect((await request(server.url, { method: 'GET', path: '/ping' })).status).toBe(503);
  });
});
