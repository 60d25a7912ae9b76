import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { lowRankData, sklearnReference } from '../../test/helpers/sklearn.js';
import { arrayChannels, trainContext } from '../../test/support/train-context.js';
import { PcaHyperparametersSchema } from './hyperparameters.js';
import { pca } from './index.js';
import { decodeModelFile, encodeModelFile } from './model.js';

const DIM = 6;
const ROWS = 1500;
const data = lowRankData(ROWS, DIM, 4, 0.2, 3, 20);
const HP = { feature_dim: String(DIM), mini_batch_size: '128', num_components: '3' };

async function trainOn(hyperparameters: Record<string, string>, values: Float32Array, dim = DIM) {
  const job = trainContext(
    PcaHyperparametersSchema,
    hyperparameters,
    arrayChannels({ train: { values, dim } }),
  );
  await pca.train(job.context);
  return job;
}

/** Files in a model dir; none when the dir was never made. */
function modelFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('PCA training job (in-memory channels)', () => {
  test('writes model_algo-1, model.onnx, model.json and report.html, and SageMaker metric lines', async () => {
    const { base, lines, context } = await trainOn(
      { ...HP, force_dense: 'True', _kvstore: 'dist_sync' },
      data,
    );
    expect(modelFiles(context.modelDir)).toEqual(['model.json', 'model.onnx', 'model_algo-1']);
    expect(existsSync(path.join(base, 'output/data/report.html'))).toBe(true);

    expect(lines).toContain('#progress_metric: host=algo-1, completed 100 % of epochs');
    expect(
      lines.some((l) => /^#throughput_metric: host=algo-1, train throughput=[\d.]+ records\/second$/.test(l)),
    ).toBe(true);
    const json = lines.filter((l) => l.startsWith('#metrics ')).map((l) => JSON.parse(l.slice(9)));
    expect(json[0].Metrics['Total Records Seen']).toEqual({ sum: ROWS, count: 1, min: ROWS, max: ROWS });
    expect(json[0].Dimensions).toMatchObject({ Host: 'algo-1', Algorithm: 'PCA' });

    const description = JSON.parse(readFileSync(path.join(context.modelDir, 'model.json'), 'utf8'));
    expect(description).toMatchObject({ algorithm: 'pca', feature_dim: DIM, num_components: 3 });
    expect(description.metrics.records).toBe(ROWS);
    expect(description.hyperparameters.extra_components).toBe(10);

    // The model file has SageMaker's named arrays and shapes, and re-encodes byte for byte.
    const bytes = readFileSync(path.join(context.modelDir, 'model_algo-1'));
    const model = decodeModelFile(bytes);
    expect(model.mean).toHaveLength(DIM);
    expect(model.s).toHaveLength(3);
    expect(model.v).toHaveLength(DIM * 3);
    expect(model.s[0]!).toBeLessThan(model.s[2]!);
    expect(encodeModelFile(model).equals(bytes)).toBe(true);
  });

  test('predictions match scikit-learn transform (ascending columns) and model.onnx', async () => {
    const { context } = await trainOn(HP, data);
    const predictor = await pca.load(context.modelDir);
    expect(predictor.jsonRootKey).toBe('projections');
    expect(predictor.fields).toEqual([{ name: 'projection', width: 3, scalar: false }]);
    const rows = 20;
    const sample = data.slice(0, rows * DIM);
    const ours = (await predictor.predict({ rows, dim: DIM, values: sample })).columns['projection']!;

    const theirs = sklearnReference<number[][]>(
      'pca-transform',
      data,
      ROWS,
      DIM,
      `from sklearn.decomposition import PCA
print(json.dumps(PCA(n_components=3, svd_solver='full').fit(X.astype(np.float64)).transform(X[:${rows}].astype(np.float64)).tolist()))`,
    );
    for (let c = 0; c < 3; c++) {
      const sign = Math.sign(ours[c]!) === Math.sign(theirs[0]![2 - c]!) ? 1 : -1;
      for (let r = 0; r < rows; r++) {
        expect(ours[r * 3 + c]!).toBeCloseTo(sign * theirs[r]![2 - c]!, 3);
      }
    }

    const session = await ort.InferenceSession.create(path.join(context.modelDir, 'model.onnx'));
    const out = await session.run({ features: new ort.Tensor('float32', sample, [rows, DIM]) });
    const onnx = out['projection']!.data as Float32Array;
    expect(out['projection']!.dims).toEqual([rows, 3]);
    for (let i = 0; i < onnx.length; i++) expect(onnx[i]!).toBeCloseTo(ours[i]!, 4);
    await session.release();
  });

  test('subtract_mean=false writes no mean; randomized mode and the stable alias train', async () => {
    const noMean = await trainOn({ ...HP, subtract_mean: 'False' }, data);
    const model = decodeModelFile(readFileSync(path.join(noMean.context.modelDir, 'model_algo-1')));
    expect(model.mean).toBeUndefined();
    const randomized = await trainOn({ ...HP, algorithm_mode: 'randomized', extra_components: '5' }, data);
    const r = decodeModelFile(readFileSync(path.join(randomized.context.modelDir, 'model_algo-1')));
    expect(r.s).toHaveLength(3);
    const stable = await trainOn({ ...HP, algorithm_mode: 'stable' }, data);
    expect(existsSync(path.join(stable.context.modelDir, 'model_algo-1'))).toBe(true);
  });

  test("reads SageMaker's own model_algo-1 (float64, 1-D mean) and answers (x - mean) . v", async () => {
    const dir = path.join(trainContext(PcaHyperparametersSchema, HP, arrayChannels({})).base, 'model');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'model_algo-1'),
      encodeNDArrayList({
        names: ['s', 'v', 'mean'],
        arrays: [
          { shape: [2], data: new Float64Array([1, 2]) },
          { shape: [3, 2], data: new Float64Array([1, 0, 0, 1, 0, 0]) },
          { shape: [3], data: new Float64Array([1, 1, 1]) },
        ],
      }),
    );
    const predictor = await pca.load(dir);
    const out = await predictor.predict({ rows: 1, dim: 3, values: new Float32Array([2, 3, 4]) });
    expect([...out.columns['projection']!]).toEqual([1, 2]);
    await expect(predictor.predict({ rows: 1, dim: 2, values: new Float32Array([1, 2]) })).rejects.toThrow(
      "each record must have 3 features (the model's feature_dim), got 2",
    );
  });
});

describe('PCA model file', () => {
  test('a model_algo-1 in the reference layout round-trips byte for byte', () => {
    // mx.nd.save('model_algo-1', {'mean': mean, 's': s, 'v': v}) with d=2, k=1, float32.
    const hex = [
      '1201000000000000',
      '0000000000000000',
      '0300000000000000',
      'c9fa93f9',
      '00000000',
      '02000000',
      '0100000000000000',
      '0200000000000000',
      '01000000',
      '00000000',
      '00000000',
      '0000803f',
      '00000040',
      'c9fa93f9',
      '00000000',
      '01000000',
      '0100000000000000',
      '01000000',
      '00000000',
      '00000000',
      '00004040',
      'c9fa93f9',
      '00000000',
      '02000000',
      '0200000000000000',
      '0100000000000000',
      '01000000',
      '00000000',
      '00000000',
      '0000803f',
      '00000000',
      '0300000000000000',
      '0400000000000000',
      '6d65616e',
      '0100000000000000',
      '73',
      '0100000000000000',
      '76',
    ].join('');
    const bytes = Buffer.from(hex, 'hex');
    const model = decodeModelFile(bytes);
    expect(model).toMatchObject({ dim: 2, numComponents: 1 });
    expect([...model.mean!]).toEqual([1, 2]);
    expect([...model.s]).toEqual([3]);
    expect([...model.v]).toEqual([1, 0]);
    expect(encodeModelFile(model).toString('hex')).toBe(hex);
  });

  test('a k-means file is refused with a hint', () => {
    const bytes = encodeNDArrayList({ names: [], arrays: [{ shape: [2, 2], data: new Float32Array(4) }] });
    expect(() => decodeModelFile(bytes, 'model_algo-1')).toThrow(
      "model_algo-1: a PCA model needs arrays named 's' and 'v' (found unnamed arrays): is this a k-means model?",
    );
  });
});

describe('PCA bad input: a clear error and no model', () => {
  test.each([
    [
      'NaN',
      Float32Array.from([1, 2, 3, 4, 5, 6, 1, Number.NaN, 3, 4, 5, 6]),
      'train channel: record 2 has a non-finite value (NaN) in column 2',
    ],
    [
      'Infinity',
      Float32Array.from([1, 2, 3, 4, 5, Number.POSITIVE_INFINITY]),
      'train channel: record 1 has a non-finite value (Infinity) in column 6',
    ],
    ['an empty channel', new Float32Array(0), 'train channel has no records'],
  ])('%s', async (_name, values, message) => {
    const job = trainContext(PcaHyperparametersSchema, HP, arrayChannels({ train: { values, dim: DIM } }));
    await expect(pca.train(job.context)).rejects.toThrow(message);
    expect(modelFiles(job.context.modelDir)).toEqual([]);
  });

  test('records of the wrong width', async () => {
    const job = trainContext(
      PcaHyperparametersSchema,
      HP,
      arrayChannels({ train: { values: new Float32Array(10), dim: 5 } }),
    );
    await expect(pca.train(job.context)).rejects.toThrow(
      'train: records have 5 features but feature_dim is 6',
    );
  });

  test('no train channel', async () => {
    const job = trainContext(
      PcaHyperparametersSchema,
      HP,
      arrayChannels({ test: { values: data, dim: DIM } }),
    );
    await expect(pca.train(job.context)).rejects.toThrow(
      "PCA needs a 'train' channel (channels given: test)",
    );
  });
});

describe('PCA on several hosts', () => {
  test('three hosts on loopback addresses: the leader writes the single-host model, workers write nothing', async () => {
    const single = await trainOn(HP, data);
    const hosts = ['127.0.0.41', '127.0.0.42', '127.0.0.43'];
    const bounds = [0, 400, 401, ROWS];
    const jobs = hosts.map((host, i) => {
      const shard = data.slice(bounds[i]! * DIM, bounds[i + 1]! * DIM);
      return trainContext(
        PcaHyperparametersSchema,
        HP,
        arrayChannels({ train: { values: shard, dim: DIM } }),
        undefined,
        { hosts, current: host },
      );
    });
    await Promise.all(jobs.map((job) => pca.train(job.context)));
    expect(modelFiles(jobs[1]!.context.modelDir)).toEqual([]);
    expect(modelFiles(jobs[2]!.context.modelDir)).toEqual([]);
    const merged = decodeModelFile(readFileSync(path.join(jobs[0]!.context.modelDir, 'model_algo-1')));
    const reference = decodeModelFile(readFileSync(path.join(single.context.modelDir, 'model_algo-1')));
    for (let i = 0; i < reference.v.length; i++) expect(merged.v[i]!).toBeCloseTo(reference.v[i]!, 5);
    for (let i = 0; i < 3; i++) expect(merged.s[i]! / reference.s[i]!).toBeCloseTo(1, 5);
    for (let i = 0; i < DIM; i++) expect(merged.mean![i]!).toBeCloseTo(reference.mean![i]!, 4);
    expect(jobs[1]!.lines).toContain('#progress_metric: host=127.0.0.42, completed 100 % of epochs');
  });
});
