/**
 * Every codec x every model kind of this folder, through the front door. The three models compute the
 * same function, y = x . [1, 2, 3] + 0.5, so every answer is the same bytes.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeRecord, encodeDenseRecords } from '../../../src/io/recordio-protobuf.js';
import { encodeNpy } from '../../../src/io/npy.js';
import { splitRecordIO } from '../../../src/io/recordio.js';
import { fileSystem, initTfjsBackend } from '../../../src/serve/kinds/tfjs/tfjs.js';
import { request, type TestServer } from '../helpers.js';
import { makeOnnxFixtures, type OnnxFixtures } from './fixtures.js';
import { serveModel } from './serve-model.js';

const USER_CODE = `
export const modelFn = () => ({ w: [1, 2, 3], b: 0.5 });
export function predictFn(data, model) {
  const { rows, dim, values } = data.batch;
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = model.b;
    for (let c = 0; c < dim; c++) sum += values[r * dim + c] * model.w[c];
    y[r] = sum;
  }
  return { y: { type: 'float32', shape: [rows, 1], data: y } };
}
`;

let root: string;
let fixtures: OnnxFixtures;
const servers: Record<string, TestServer> = {};

async function saveTfjsLinear(dir: string): Promise<void> {
  await initTfjsBackend();
  const model = tf.sequential();
  model.add(tf.layers.dense({ name: 'y', units: 1, inputShape: [3] }));
  model.setWeights([tf.tensor2d([[1], [2], [3]]), tf.tensor1d([0.5])]);
  await model.save(fileSystem(dir));
  model.dispose();
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'smkit-matrix-'));
  fixtures = await makeOnnxFixtures();
  const onnx = path.join(root, 'onnx');
  await mkdir(onnx);
  await copyFile(path.join(fixtures.dir, 'linear', 'model.onnx'), path.join(onnx, 'model.onnx'));
  await saveTfjsLinear(path.join(root, 'tfjs'));
  await mkdir(path.join(root, 'user-code', 'code'), { recursive: true });
  await writeFile(path.join(root, 'user-code', 'code', 'inference.mjs'), USER_CODE);
  for (const kind of ['onnx', 'tfjs', 'user-code']) servers[kind] = await serveModel(path.join(root, kind));
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  await fixtures.remove();
  await rm(root, { recursive: true, force: true });
});

const ROWS = [
  [1, 2, 3],
  [0, 0, 0],
];
const JSON_ANSWER = '{"predictions": [{"y": [14.5]}, {"y": [0.5]}]}';
const KINDS = ['onnx', 'tfjs', 'user-code'] as const;

const BODIES: [string, string | Buffer][] = [
  ['text/csv', '1,2,3\n0,0,0\n'],
  ['text/csv; charset=utf-8', '1,2,3\r\n0,0,0'],
  ['application/json', JSON.stringify(ROWS)],
  ['application/json', JSON.stringify({ instances: ROWS })],
  ['application/json', JSON.stringify({ instances: ROWS.map((features) => ({ features })) })],
  ['application/jsonlines', '[1, 2, 3]\n[0, 0, 0]\n'],
  [
    'application/x-recordio-protobuf',
    encodeDenseRecords({ rows: 2, dim: 3, values: Float32Array.from(ROWS.flat()) }),
  ],
  ['application/x-npy', encodeNpy({ dtype: 'float64', shape: [2, 3], data: Float64Array.from(ROWS.flat()) })],
];

test('a TF.js model answers a large body from the worker-thread pool like the inline one', async () => {
  const pooled = await serveModel(path.join(root, 'tfjs'), {}, { poolMinBytes: 64 * 1024 });
  try {
    const rows = 12000;
    const body = '1,2,3\n0,0,0\n'.repeat(rows / 2);
    expect(body.length).toBeGreaterThanOrEqual(64 * 1024);
    const reply = await request(pooled.url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
      body,
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('14.5\n0.5\n'.repeat(rows / 2));
  } finally {
    await pooled.close();
  }
});

describe.each(KINDS)('%s model', (kind) => {
  test.each(BODIES)('Content-Type %s', async (contentType, body) => {
    const reply = await request(servers[kind]!.url, { headers: { 'Content-Type': contentType }, body });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.text).toBe(JSON_ANSWER);
  });

  test.each([
    ['application/json', JSON_ANSWER],
    ['application/jsonlines', '{"y": [14.5]}\n{"y": [0.5]}\n'],
    ['text/csv', '14.5\n0.5\n'],
  ])('Accept %s', async (accept, expected) => {
    const reply = await request(servers[kind]!.url, {
      headers: { 'Content-Type': 'text/csv', Accept: accept },
      body: '1,2,3\n0,0,0',
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(accept);
    expect(reply.text).toBe(expected);
  });

  test('Accept application/x-recordio-protobuf: one label record per row', async () => {
    const reply = await request(servers[kind]!.url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'application/x-recordio-protobuf' },
      body: '1,2,3\n0,0,0',
    });
    expect(reply.headers['content-type']).toBe('application/x-recordio-protobuf');
    const labels = splitRecordIO(reply.body).map((payload) => [...decodeRecord(payload).label['y']!.values]);
    expect(labels).toEqual([[14.5], [0.5]]);
  });

  test.skipIf(kind === 'user-code')(
    'a row of the wrong width is a 400 naming the expected width',
    async () => {
      const csv = await request(servers[kind]!.url, {
        headers: { 'Content-Type': 'text/csv' },
        body: '1,2,3\n1,2,3,4',
      });
      expect(csv.status).toBe(400);
      expect((csv.json() as { message: string }).message).toMatch(
        /^request body line 2: expected 3 columns \(the width of input '\w+' \[(batch|\?), 3\]\), got 4\. Every row must have the same width\.$/,
      );
      const json = await request(servers[kind]!.url, {
        headers: { 'Content-Type': 'application/json' },
        body: '[[1, 2, 3, 4]]',
      });
      expect(json.status).toBe(400);
      expect((json.json() as { message: string }).message).toMatch(
        /^input '\w+' expects shape \[(batch|\?), 3\] \(got \[1, 4\]\): each record needs 3 values$/,
      );
    },
  );

  test('an unknown Content-Type is a 415, an unsatisfiable Accept a 406', async () => {
    const png = await request(servers[kind]!.url, { headers: { 'Content-Type': 'image/png' }, body: 'x' });
    expect(png.status).toBe(415);
    const accept = await request(servers[kind]!.url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'image/png' },
      body: '1,2,3',
    });
    expect(accept.status).toBe(406);
  });
});
