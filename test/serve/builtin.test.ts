import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { decodeNpy as decodeNpyFile, encodeNpy } from '../../src/io/npy.js';
import { splitRecordIO } from '../../src/io/recordio.js';
import { decodeRecord, encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { loadModel } from '../../src/serve/detect.js';
import { registerModelKinds } from '../../src/serve/model-kinds.js';
import { kmeansModelFile, quietLog, request, settingsFrom, startApp, type TestServer } from './helpers.js';
import { registerTestAlgorithms } from './test-algorithms.js';

registerModelKinds();
registerTestAlgorithms();

const ROW = [1.5, 16.0, 14.0, 23.0];
const dirs: string[] = [];

async function modelDir(files: Record<string, Buffer | string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-serve-'));
  dirs.push(dir);
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
  return dir;
}

async function serveDir(dir: string): Promise<TestServer> {
  const settings = settingsFrom();
  return startApp({ loadHandler: () => loadModel(dir, { settings, log: quietLog }) });
}

function recordio(rows: number[][]): Buffer {
  return encodeDenseRecords({
    rows: rows.length,
    dim: rows[0]!.length,
    values: Float32Array.from(rows.flat()),
  });
}

function labels(body: Buffer): Record<string, number[]>[] {
  return splitRecordIO(body).map((payload) => {
    const record = decodeRecord(payload);
    expect(record.features).toEqual({});
    return Object.fromEntries(Object.entries(record.label).map(([k, t]) => [k, [...t.values]]));
  });
}

let kmeans: TestServer;
let pca: TestServer;

beforeAll(async () => {
  kmeans = await serveDir(await modelDir({ 'model_algo-1': kmeansModelFile() }));
  const pcaFile = encodeNDArrayList({
    arrays: [
      { shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
      { shape: [2], data: new Float32Array([1, 2]) },
      { shape: [4, 2], data: new Float32Array([1, 0, 0, 1, 0, 0, 0, 0]) },
    ],
    names: ['mean', 's', 'v'],
  });
  pca = await serveDir(await modelDir({ 'model_algo-1': pcaFile }));
  await Promise.all([kmeans.app.loaded, pca.app.loaded]);
});

afterAll(async () => {
  await kmeans.close();
  await pca.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const K_JSON = '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 17.124544143676758}]}';

describe('k-means model_algo-1: every request codec', () => {
  test.each([
    ['text/csv', '1.5,16.0,14.0,23.0'],
    ['text/csv; charset=utf-8', '1.5,16,14,23\n'],
    ['application/json', JSON.stringify({ instances: [{ features: ROW }] })],
    ['application/json', JSON.stringify({ instances: [{ data: { features: { values: ROW } } }] })],
    [
      'application/json',
      JSON.stringify({
        instances: [{ data: { features: { keys: [0, 1, 2, 3], shape: [4], values: ROW } } }],
      }),
    ],
    ['application/json', JSON.stringify({ instances: [ROW] })],
    ['application/json', JSON.stringify({ inputs: [ROW] })],
    ['application/json', JSON.stringify([ROW])],
    ['application/json', JSON.stringify(ROW)],
    ['application/jsonlines', `${JSON.stringify({ features: ROW })}\n`],
    ['application/x-recordio-protobuf', recordio([ROW])],
    ['application/x-npy', encodeNpy({ dtype: 'float32', shape: [1, 4], data: Float32Array.from(ROW) })],
    ['application/x-npy', encodeNpy({ dtype: 'float64', shape: [4], data: Float64Array.from(ROW) })],
  ])('%s %#', async (contentType, body) => {
    const reply = await request(kmeans.url, { headers: { 'Content-Type': contentType }, body });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.text).toBe(K_JSON);
  });

  test('sparse JSON rows are densified', async () => {
    const body = JSON.stringify({
      instances: [{ data: { features: { keys: [1], shape: [4], values: [2] } } }],
    });
    const reply = await request(kmeans.url, { headers: { 'Content-Type': 'application/json' }, body });
    expect(reply.text).toBe('{"predictions": [{"closest_cluster": 0.0, "distance_to_cluster": 2.0}]}');
  });
});

describe('k-means model_algo-1: every response codec', () => {
  const body = '1.5,16,14,23\n1,2,3,4\n';
  test.each([
    [
      'application/json',
      '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 17.124544143676758}, ' +
        '{"closest_cluster": 2.0, "distance_to_cluster": 0.0}]}',
    ],
    [
      'application/jsonlines',
      '{"distance_to_cluster": 17.124544143676758, "closest_cluster": 1.0}\n' +
        '{"distance_to_cluster": 0.0, "closest_cluster": 2.0}\n',
    ],
    ['text/csv', '1.0,17.124544143676758\n2.0,0.0\n'],
  ])('Accept %s', async (accept, expected) => {
    const reply = await request(kmeans.url, {
      headers: { 'Content-Type': 'text/csv', Accept: accept },
      body,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(accept);
    expect(reply.text).toBe(expected);
  });

  test('Accept application/x-recordio-protobuf: one label record per row', async () => {
    const reply = await request(kmeans.url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'application/x-recordio-protobuf' },
      body,
    });
    expect(reply.headers['content-type']).toBe('application/x-recordio-protobuf');
    expect(labels(reply.body)).toEqual([
      { closest_cluster: [1], distance_to_cluster: [Math.fround(17.124544143676758)] },
      { closest_cluster: [2], distance_to_cluster: [0] },
    ]);
  });

  test('Accept application/x-npy: rows x (cluster, distance) float32', async () => {
    const reply = await request(kmeans.url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'application/x-npy' },
      body,
    });
    expect(reply.headers['content-type']).toBe('application/x-npy');
    const array = decodeNpyFile(reply.body);
    expect(array.shape).toEqual([2, 2]);
    expect([...array.data]).toEqual([1, Math.fround(17.124544143676758), 2, 0]);
  });

  test('q-values and wildcards pick the best offer', async () => {
    const ask = (accept: string) =>
      request(kmeans.url, { headers: { 'Content-Type': 'text/csv', Accept: accept }, body: '1,2,3,4' });
    expect((await ask('application/json;q=0.2, text/csv;q=0.9')).headers['content-type']).toBe('text/csv');
    expect((await ask('text/*')).headers['content-type']).toBe('text/csv');
    expect((await ask('image/png, */*;q=0.1')).headers['content-type']).toBe('application/json');
  });
});

describe('batch transform: MULTI_RECORD bodies of N records give N answers in order', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => (i % 2 ? [1, 2, 3, 4] : [10, 10, 10, i % 3 ? 10 : 11]));
  const expected = rows.map((_, i) => (i % 2 ? 2 : 1));
  test.each([
    [
      'text/csv',
      (b: Buffer) =>
        b
          .toString()
          .trimEnd()
          .split('\n')
          .map((l) => Number(l.split(',')[0])),
    ],
    [
      'application/jsonlines',
      (b: Buffer) =>
        b
          .toString()
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as { closest_cluster: number }).closest_cluster),
    ],
    ['application/x-recordio-protobuf', (b: Buffer) => labels(b).map((r) => r['closest_cluster']![0]!)],
  ])('%s', async (accept, clusters) => {
    const reply = await request(kmeans.url, {
      headers: { 'Content-Type': 'text/csv; label_size=1', Accept: accept },
      body: rows.map((r) => `7,${r.join(',')}`).join('\n'),
    });
    expect(reply.status).toBe(200);
    expect(clusters(reply.body)).toEqual(expected);
  });
});

describe('PCA model_algo-1', () => {
  test.each([
    ['application/json', '{"projections": [{"projection": [0.5, 15.0]}, {"projection": [0.0, 1.0]}]}'],
    ['application/jsonlines', '{"projection": [0.5, 15.0]}\n{"projection": [0.0, 1.0]}\n'],
    ['text/csv', '0.5,15.0\n0.0,1.0\n'],
  ])('Accept %s', async (accept, expected) => {
    const reply = await request(pca.url, {
      headers: { 'Content-Type': 'text/csv', Accept: accept },
      body: '1.5,16,14,23\n1,2,3,4\n',
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(expected);
  });

  test('RecordIO-protobuf in and out', async () => {
    const reply = await request(pca.url, {
      headers: {
        'Content-Type': 'application/x-recordio-protobuf',
        Accept: 'application/x-recordio-protobuf',
      },
      body: recordio([ROW, [1, 2, 3, 4]]),
    });
    expect(labels(reply.body)).toEqual([{ projection: [0.5, 15] }, { projection: [0, 1] }]);
  });
});

describe('bad requests: 4xx JSON naming what is wrong', () => {
  test.each([
    [{ 'Content-Type': 'image/png' }, 'x', 415, 'Content-Type image/png is not supported; send one of'],
    [{}, '1,2,3,4', 415, 'the request has no Content-Type; send one of'],
    [
      { 'Content-Type': 'text/csv', Accept: 'image/png' },
      '1,2,3,4',
      406,
      'cannot answer with Accept: image/png',
    ],
    [
      { 'Content-Type': 'text/csv' },
      '1,2,3\n',
      400,
      'request body line 1: expected 4 columns (feature_dim), got 3',
    ],
    [{ 'Content-Type': 'text/csv' }, '1,2,3,4\n1,2,3,4,5\n', 400, 'request body line 2: expected 4 columns'],
    [{ 'Content-Type': 'text/csv' }, '1,2,nan,4\n', 400, 'line 1'],
    [{ 'Content-Type': 'text/csv;label_size=x' }, '1,2,3,4\n', 400, 'label_size=x must be an integer >= 0'],
    [
      { 'Content-Type': 'application/json' },
      '{"instances": [[1,2,3,4], [1,2]]}',
      400,
      'instance 2: 2 values',
    ],
    [{ 'Content-Type': 'application/json' }, '{"instances": [[1,2,3,1e400]]}', 400, 'instance 1, value 4'],
    [
      { 'Content-Type': 'application/json' },
      '{"instances": [[1,2,3,"x"]]}',
      400,
      'value 4 is the string "x"',
    ],
    [{ 'Content-Type': 'application/json' }, '{"instances": [1,2', 400, 'the body is not valid JSON'],
    [{ 'Content-Type': 'application/json' }, '[]', 400, 'the body holds no records'],
    [
      { 'Content-Type': 'application/jsonlines' },
      '{"features": [1,2,3,4]}\n{oops\n',
      400,
      'line 2: not valid JSON',
    ],
    [{ 'Content-Type': 'application/x-recordio-protobuf' }, Buffer.from([1, 2, 3]), 400, 'request body'],
    [{ 'Content-Type': 'application/x-npy' }, Buffer.from('not numpy'), 400, 'is not an NPY file'],
  ])('%j %s -> %i', async (headers, body, status, message) => {
    const reply = await request(kmeans.url, { headers, body });
    expect(reply.status).toBe(status);
    expect(reply.headers['content-type']).toBe('application/json');
    expect((reply.json() as { message: string }).message).toContain(message);
  });
});

describe('model detection', () => {
  test('an empty directory and a SavedModel fail with messages that say what to do', async () => {
    const settings = settingsFrom();
    const empty = await modelDir({});
    await expect(loadModel(empty, { settings, log: quietLog })).rejects.toThrow(
      `no model found in ${empty}: expected code/inference.js (or .mjs, .ts), model_algo-1, model.onnx or model.json`,
    );
    const saved = await modelDir({ 'saved_model.pb': 'x' });
    await expect(loadModel(saved, { settings, log: quietLog })).rejects.toThrow(
      /TensorFlow SavedModel.*tensorflowjs_converter.*tf2onnx/,
    );
  });

  test('model.json {"algorithm"} names the algorithm; unknown arrays are refused', async () => {
    const settings = settingsFrom();
    const named = await modelDir({
      'model_algo-1': kmeansModelFile(),
      'model.json': JSON.stringify({ algorithm: 'pca' }),
    });
    await expect(loadModel(named, { settings, log: quietLog })).rejects.toThrow();
    const odd = await modelDir({
      'model_algo-1': encodeNDArrayList({
        arrays: [{ shape: [2], data: new Float32Array(2) }],
        names: ['w'],
      }),
    });
    await expect(loadModel(odd, { settings, log: quietLog })).rejects.toThrow(
      'cannot tell which built-in algorithm wrote it (1 arrays named w)',
    );
  });
});
