import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { kmeans } from './index.js';
import { assignJs } from './math/assign.js';
import { createRandom } from './math/random.js';
import { decodeModelFile, encodeModelFile } from './model.js';

/** `mx.nd.save('model_algo-1', [centroids])` for a float32 k x d array, written field by field from the spec. */
function referenceModelFile(k: number, d: number, values: number[], v1 = false): Buffer {
  const parts: Buffer[] = [];
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    parts.push(b);
  };
  u64(0x112);
  u64(0);
  u64(1);
  u32(v1 ? 0xf993fac8 : 0xf993fac9);
  if (!v1) u32(0); // dense storage
  u32(2);
  u64(k);
  u64(d);
  u32(1); // cpu
  u32(0); // device id
  u32(0); // float32
  parts.push(Buffer.from(Float32Array.from(values).buffer));
  u64(0); // no names
  return Buffer.concat(parts);
}

function modelDir(bytes: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmeans-model-'));
  writeFileSync(path.join(dir, 'model_algo-1'), bytes);
  return dir;
}

describe('model_algo-1', () => {
  it('is byte for byte what mx.nd.save writes (2x2 float32: 88 bytes) and round-trips', () => {
    const reference = referenceModelFile(2, 2, [1, 2, 3, 4]);
    expect(reference.length).toBe(88);
    const model = decodeModelFile(reference);
    expect(model).toEqual({ k: 2, dim: 2, centroids: Float32Array.from([1, 2, 3, 4]) });
    expect(encodeModelFile(model).equals(reference)).toBe(true);
  });

  it.each([
    ['V2 float32 (mx.nd.save)', referenceModelFile(2, 3, [0, 0, 0, 10, 10, 10])],
    ['V1 float32 (older MXNet)', referenceModelFile(2, 3, [0, 0, 0, 10, 10, 10], true)],
    [
      'V2 float64',
      encodeNDArrayList({
        arrays: [{ shape: [2, 3], data: Float64Array.from([0, 0, 0, 10, 10, 10]) }],
        names: [],
      }),
    ],
  ])('load() serves a SageMaker-written model: %s', async (_name, bytes) => {
    const predictor = await kmeans.load(modelDir(bytes));
    expect(predictor.featureDim).toBe(3);
    const out = await predictor.predict({
      rows: 2,
      dim: 3,
      values: Float32Array.from([1, 2, 2, 10, 10, 13]),
    });
    expect(Array.from(out.columns['closest_cluster']!)).toEqual([0, 1]);
    expect(Array.from(out.columns['distance_to_cluster']!)).toEqual([3, 3]);
  });

  it('load() answers a large body with the bits of the exact assignment, whatever the body size or CPU', async () => {
    const random = createRandom(21);
    const [k, dim, rows] = [16, 40, 2500];
    const centroids = Array.from({ length: k * dim }, () => random() * 10);
    const values = Float32Array.from({ length: rows * dim }, () => random() * 10);
    const predictor = await kmeans.load(modelDir(referenceModelFile(k, dim, centroids)));
    const out = await predictor.predict({ rows, dim, values });
    const exact = assignJs(values, rows, Float32Array.from(centroids), k, dim);
    expect(Array.from(out.columns['closest_cluster']!)).toEqual(Array.from(exact.labels));
    expect(Array.from(out.columns['distance_to_cluster']!)).toEqual(
      Array.from(Float32Array.from(exact.distances, Math.sqrt)),
    );
    await predictor.close?.();
  });

  it('load() explains what is missing or wrong', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'kmeans-empty-'));
    await expect(kmeans.load(empty)).rejects.toThrow(
      `no k-means model found in ${empty}: expected model_algo-1 (an MXNet NDArray file)`,
    );
    const pca = encodeNDArrayList({
      arrays: [
        { shape: [1, 2], data: Float32Array.from([0, 0]) },
        { shape: [1], data: Float32Array.from([1]) },
      ],
      names: ['mean', 's'],
    });
    await expect(kmeans.load(modelDir(pca))).rejects.toThrow(
      'holds named arrays (mean, s), not k-means centroids: is this a PCA model?',
    );
  });

  it('predict() rejects records of the wrong width or with NaN as a bad request', async () => {
    const predictor = await kmeans.load(modelDir(referenceModelFile(1, 2, [0, 0])));
    await expect(predictor.predict({ rows: 1, dim: 3, values: new Float32Array(3) })).rejects.toMatchObject({
      status: 400,
      message: "each record must have 2 features (the model's feature_dim), got 3",
    });
    await expect(
      predictor.predict({ rows: 2, dim: 2, values: Float32Array.from([0, 0, 1, Number.NaN]) }),
    ).rejects.toMatchObject({ status: 400, message: 'record 2 has NaN in feature 2: send finite numbers' });
  });
});
