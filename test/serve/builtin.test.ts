import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeNDArrayList, encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { decodeNpy as decodeNpyFile, encodeNpy } from '../../src/io/npy.js';
import { splitRecordIO } from '../../src/io/recordio.js';
import { decodeRecord, encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { loadModel } from '../../src/serve/kinds/kind.js';
import { formatFloat } from '../../src/serve/codecs/number-format.js';
import { defaultModelKinds as kinds } from '../../src/serve/kinds/index.js';
import { lowRankData } from '../helpers/sklearn.js';
import { createJobTree, runJob } from '../train/job-tree.js';
import {
  kmeansModelFile,
  quietLog,
  type Reply,
  request,
  settingsFrom,
  startApp,
  type TestServer,
} from './helpers.js';

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
  return startApp({ loadHandler: () => loadModel(dir, { settings, log: quietLog, kinds }) });
}

function recordio(rows: number[][]): Buffer {
  return encodeDenseRecords({
    rows: rows.length,
    dim: rows[0]!.length,
    values: Float32Array.from(rows.flat()),
  });
}

function toCsvRows(rows: readonly (readonly number[])[]): string {
  return rows.map((row) => `${row.join(',')}\n`).join('');
}

function labels(body: Buffer): Record<string, number[]>[] {
  return splitRecordIO(body).map((payload) => {
    const record = decodeRecord(payload);
    expect(record.features).toEqual({});
    return Object.fromEntries(Object.entries(record.label).map(([k, t]) => [k, [...t.values]]));
  });
}

/** A PCA model trained by the real algorithm: model_algo-1's `mean` (d) and `v` (d x k, row-major). */
interface TrainedPca {
  readonly dir: string;
  readonly mean: Float32Array | Float64Array;
  readonly v: Float32Array | Float64Array;
  readonly k: number;
}

/** Trains the built-in PCA (num_components=2) through the runner on 200 deterministic 4-D rows. */
async function trainPca(): Promise<TrainedPca> {
  const data = lowRankData(200, 4, 2, 0.2, 7);
  const csv = Array.from({ length: 200 }, (_, r) => data.subarray(r * 4, r * 4 + 4).join(',')).join('\n');
  const paths = await createJobTree({
    hyperparameters: { num_components: '2', feature_dim: '4', mini_batch_size: '50' },
    inputDataConfig: { train: { ContentType: 'text/csv', TrainingInputMode: 'File' } },
    data: { 'train/part-0.csv': `${csv}\n` },
  });
  dirs.push(paths.base);
  expect(await runJob(paths, { SMKIT_ALGORITHM: 'pca' })).toBe(0);
  const file = decodeNDArrayList(await readFile(path.join(paths.model, 'model_algo-1')));
  const array = (name: string) => file.arrays[file.names.indexOf(name)]!;
  expect(file.names).toEqual(['mean', 's', 'v']);
  expect(array('v').shape).toEqual([4, 2]);
  return { dir: paths.model, mean: array('mean').data, v: array('v').data, k: 2 };
}

/** (row - mean) . v in float64: what the math says the projection of `row` is. */
function projection(model: TrainedPca, row: readonly number[]): number[] {
  return Array.from({ length: model.k }, (_, c) =>
    row.reduce((sum, x, j) => sum + (Math.fround(x) - model.mean[j]!) * model.v[j * model.k + c]!, 0),
  );
}

let kmeans: TestServer;
let pca: TestServer;
let pcaModel: TrainedPca;

beforeAll(async () => {
  kmeans = await serveDir(await modelDir({ 'model_algo-1': kmeansModelFile() }));
  pcaModel = await trainPca();
  pca = await serveDir(pcaModel.dir);
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

describe('k-means model_algo-1: non-finite RecordIO-protobuf values', () => {
  // A small body (decoded into a slab view) and a large one (a recycled buffer): the one-pass decoder
  // sees the Infinity, and the request is refused as before, naming its record and value.
  test.each([2, 400])('%i records, Infinity in the second: 400', async (rows) => {
    const values = Array.from({ length: rows }, () => [...ROW]);
    values[1]![2] = Number.POSITIVE_INFINITY;
    const reply = await request(kmeans.url, {
      headers: { 'Content-Type': 'application/x-recordio-protobuf' },
      body: recordio(values),
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).message).toBe(
      'record 2, value 3: Infinity is not allowed; send finite numbers (values beyond float32 range become Infinity)',
    );
    const again = await request(kmeans.url, {
      headers: { 'Content-Type': 'application/x-recordio-protobuf' },
      body: recordio([ROW]),
    });
    expect(again.text).toBe(K_JSON);
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

describe('PCA model_algo-1 trained by the built-in PCA', () => {
  const ROWS = [ROW, [1, 2, 3, 4], [-0.25, 7, 3.5, 1e-3]];
  const csvBody = toCsvRows(ROWS);

  /** The projections in a reply, checked against the model's math within float32 tolerance. */
  function expectProjections(got: number[][], rows: readonly (readonly number[])[]): void {
    expect(got).toEqual(
      rows.map((row) =>
        projection(pcaModel, row).map((x) => expect.closeTo(x, 6 - Math.ceil(Math.log10(1 + Math.abs(x))))),
      ),
    );
  }

  /** Whole JSON answers: status, type, and SageMaker's layout `{"projections": [{"projection": [a, b]}]}`. */
  function jsonProjections(reply: Reply): number[][] {
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    const got = (reply.json() as { projections: { projection: number[] }[] }).projections.map(
      (p) => p.projection,
    );
    const layout = got.map((p) => `{"projection": [${p.map(formatFloat).join(', ')}]}`).join(', ');
    expect(reply.text).toBe(`{"projections": [${layout}]}`);
    return got;
  }

  test.each([
    ['text/csv', csvBody],
    ['application/json', JSON.stringify({ instances: ROWS.map((features) => ({ features })) })],
    ['application/json', JSON.stringify({ instances: ROWS })],
    ['application/jsonlines', ROWS.map((features) => `${JSON.stringify({ features })}\n`).join('')],
    ['application/x-recordio-protobuf', recordio(ROWS)],
    [
      'application/x-npy',
      encodeNpy({ dtype: 'float32', shape: [ROWS.length, 4], data: Float32Array.from(ROWS.flat()) }),
    ],
  ])('Content-Type %s %#: {"projections": [...]} as the math says', async (contentType, body) => {
    const reply = await request(pca.url, { headers: { 'Content-Type': contentType }, body });
    expectProjections(jsonProjections(reply), ROWS);
  });

  test.each([
    [
      'application/jsonlines',
      (line: string) => (JSON.parse(line) as { projection: number[] }).projection,
      (p: number[]) => `{"projection": [${p.map(formatFloat).join(', ')}]}`,
    ],
    [
      'text/csv',
      (line: string) => line.split(',').map(Number),
      (p: number[]) => p.map(formatFloat).join(','),
    ],
  ])('Accept %s: one line per row', async (accept, parse, render) => {
    const reply = await request(pca.url, {
      headers: { 'Content-Type': 'text/csv', Accept: accept },
      body: csvBody,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(accept);
    const got = reply.text.trimEnd().split('\n').map(parse);
    expect(reply.text).toBe(got.map((p) => `${render(p)}\n`).join(''));
    expectProjections(got, ROWS);
  });

  test('Accept application/x-recordio-protobuf: one float32 `projection` label per row', async () => {
    const reply = await request(pca.url, {
      headers: {
        'Content-Type': 'application/x-recordio-protobuf',
        Accept: 'application/x-recordio-protobuf',
      },
      body: recordio(ROWS),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-recordio-protobuf');
    const records = labels(reply.body);
    expect(records.map((r) => Object.keys(r))).toEqual(ROWS.map(() => ['projection']));
    expectProjections(
      records.map((r) => r['projection']!),
      ROWS,
    );
  });

  test('a row of the wrong width is a 400 naming the line and feature_dim', async () => {
    const reply = await request(pca.url, {
      headers: { 'Content-Type': 'text/csv' },
      body: '1,2,3,4\n1,2,3\n',
    });
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/json');
    expect((reply.json() as { message: string }).message).toContain(
      'request body line 2: expected 4 columns (feature_dim), got 3',
    );
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
    // One message per problem, whatever the codec (each names its row its own way).
    [
      { 'Content-Type': 'text/csv' },
      '1,2,3\n',
      400,
      'line 1 has 3 values, but the model expects 4 features per record',
    ],
    [
      { 'Content-Type': 'application/json' },
      '[[1,2,3]]',
      400,
      'instance 1 has 3 values, but the model expects 4 features per record',
    ],
    [
      { 'Content-Type': 'application/jsonlines' },
      '[1,2,3]\n',
      400,
      'line 1 has 3 values, but the model expects 4 features per record',
    ],
    [{ 'Content-Type': 'text/csv' }, '\n\n', 400, 'the body holds no records; send at least one row'],
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
    await expect(loadModel(empty, { settings, log: quietLog, kinds })).rejects.toThrow(
      `no model found in ${empty}: expected code/inference.js (or .mjs, .ts), model_algo-1, model.onnx or model.json`,
    );
    const saved = await modelDir({ 'saved_model.pb': 'x' });
    await expect(loadModel(saved, { settings, log: quietLog, kinds })).rejects.toThrow(
      /TensorFlow SavedModel.*tensorflowjs_converter.*tf2onnx/,
    );
  });

  test('model.json {"algorithm"} names the algorithm; unknown arrays are refused', async () => {
    const settings = settingsFrom();
    const named = await modelDir({
      'model_algo-1': kmeansModelFile(),
      'model.json': JSON.stringify({ algorithm: 'pca' }),
    });
    await expect(loadModel(named, { settings, log: quietLog, kinds })).rejects.toThrow(
      "a PCA model needs arrays named 's' and 'v' (found unnamed arrays): is this a k-means model?",
    );
    const odd = await modelDir({
      'model_algo-1': encodeNDArrayList({
        arrays: [{ shape: [2], data: new Float32Array(2) }],
        names: ['w'],
      }),
    });
    await expect(loadModel(odd, { settings, log: quietLog, kinds })).rejects.toThrow(
      'cannot tell which built-in algorithm wrote it (1 arrays named w)',
    );
  });
});
