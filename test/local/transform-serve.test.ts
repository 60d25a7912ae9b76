import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { splitRecordIO } from '../../src/io/recordio.js';
import { decodeRecord, encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { splitLabelledCsv } from '../../src/local/demo.js';
import { type LocalEndpoint, startLocalEndpoint } from '../../src/local/local-endpoint.js';
import { runTransform, type TransformOptions } from '../../src/local/transform.js';
import { CASES } from '../fixtures/transform/cases.js';

// Batch transform against the real `smkit serve` with a k-means model (SageMaker's iris centroids).
const CENTROIDS = [5.04, 3.43, 1.45, 0.25, 6.02, 2.76, 4.47, 1.47, 6.85, 3.04, 5.8, 2.08];
let dir: string;
let endpoint: LocalEndpoint;
let test: { features: string[]; labels: string[] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-transform-serve-'));
  await mkdir(path.join(dir, 'model'));
  await writeFile(
    path.join(dir, 'model/model_algo-1'),
    encodeNDArrayList({ arrays: [{ shape: [3, 4], data: new Float32Array(CENTROIDS) }], names: [] }),
  );
  test = splitLabelledCsv(await readFile('examples/data/iris/iris_test.csv', 'utf8'));
  endpoint = await startLocalEndpoint({
    model: path.join(dir, 'model'),
    port: 0,
    smkitCommand: [process.execPath, '--import', 'tsx', path.resolve('test/train/fixtures/smkit-cli.ts')],
    parentEnv: { PATH: process.env.PATH },
    env: { SAGEMAKER_BATCH: 'true' },
  });
  await endpoint.ready;
}, 120_000);
afterAll(async () => {
  await endpoint?.close();
  await rm(dir, { recursive: true, force: true });
});

async function transform(name: string, input: Buffer | string, options: Partial<TransformOptions>) {
  const inputDir = path.join(dir, `in-${name}`);
  await mkdir(inputDir);
  await writeFile(path.join(inputDir, 'data'), input);
  const result = await runTransform({
    endpoint: endpoint.url,
    input: inputDir,
    output: path.join(dir, `out-${name}`),
    contentType: 'text/csv',
    accept: 'text/csv',
    splitType: 'Line',
    assembleWith: 'Line',
    joinSource: 'None',
    ...options,
  });
  expect(result.failures).toEqual([]);
  return readFile(path.join(dir, `out-${name}`, 'data.out'));
}

describe('smkit local transform against smkit serve (k-means)', () => {
  it('Line split: drops the label with $[1:], joins the input and keeps species and cluster', async () => {
    const rows = test.labels.map((label, i) => `${label},${test.features[i]}`).join('\n');
    const out = await transform('line', rows, {
      inputFilter: '$[1:]',
      joinSource: 'Input',
      outputFilter: '$[0,-2]',
      maxPayloadMb: 300 / (1024 * 1024),
    });
    const lines = out.toString().trim().split('\n');
    expect(lines).toHaveLength(38);
    expect(lines.slice(0, 3)).toEqual(['Iris-setosa,0.0', 'Iris-versicolor,1.0', 'Iris-virginica,2.0']);
  });

  it('RecordIO split: RecordIO-protobuf rows in, one label record per row out', async () => {
    const values = new Float32Array(test.features.flatMap((row) => row.split(',').map(Number)));
    const body = encodeDenseRecords({ rows: 38, dim: 4, values });
    const out = await transform('recordio', body, {
      contentType: 'application/x-recordio-protobuf',
      accept: 'application/x-recordio-protobuf',
      splitType: 'RecordIO',
      assembleWith: 'None',
      maxPayloadMb: 400 / (1024 * 1024),
    });
    const records = splitRecordIO(out).map((payload) => decodeRecord(payload));
    expect(records).toHaveLength(38);
    expect(JSON.stringify(records[0])).toContain('closest_cluster');
  });

  it('None split: a whole JSON document per request', async () => {
    const instances = test.features.slice(0, 2).map((row) => ({ features: row.split(',').map(Number) }));
    const out = await transform('none', JSON.stringify({ instances }), {
      contentType: 'application/json',
      accept: 'application/json',
      splitType: 'None',
      assembleWith: 'None',
    });
    const { predictions } = JSON.parse(out.toString());
    expect(predictions.map((p: { closest_cluster: number }) => p.closest_cluster)).toEqual([0, 1]);
  });

  // test/fixtures/transform/*.out were written by the transform before it streamed (a88665d, with
  // test/fixtures/transform/record.ts): cutting files as they are read must not change a byte.
  it.each(Object.keys(CASES))('writes the recorded output byte for byte: %s', async (name) => {
    const input = await readFile('test/fixtures/transform/input.csv');
    const out = await transform(`recorded-${name}`, input, CASES[name]!);
    expect(out.equals(await readFile(`test/fixtures/transform/${name}.out`))).toBe(true);
  });
});
