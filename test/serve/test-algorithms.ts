import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { registerAlgorithm } from '../../algorithms/registry.js';
import type { Algorithm, Predictor } from '../../algorithms/types.js';
import { decodeNDArrayList } from '../../src/io/mxnet-ndarray.js';

/**
 * Small k-means and PCA predictors over the real `model_algo-1` format, registered under the built-in
 * names so the serving tests run before the algorithm branches are merged.
 */
async function loadKmeans(modelDir: string): Promise<Predictor> {
  const list = decodeNDArrayList(await readFile(path.join(modelDir, 'model_algo-1')));
  const [k, d] = list.arrays[0]!.shape as [number, number];
  const centers = Float32Array.from(list.arrays[0]!.data);
  return {
    featureDim: d,
    jsonRootKey: 'predictions',
    fields: [
      { name: 'closest_cluster', width: 1, scalar: true },
      { name: 'distance_to_cluster', width: 1, scalar: true },
    ],
    async predict(batch) {
      const closest = new Float32Array(batch.rows);
      const distance = new Float32Array(batch.rows);
      for (let r = 0; r < batch.rows; r++) {
        let best = Number.POSITIVE_INFINITY;
        for (let c = 0; c < k; c++) {
          let sum = 0;
          for (let j = 0; j < d; j++) {
            const diff = batch.values[r * d + j]! - centers[c * d + j]!;
            sum += diff * diff;
          }
          if (sum < best) {
            best = sum;
            closest[r] = c;
          }
        }
        distance[r] = Math.sqrt(best);
      }
      return { rows: batch.rows, columns: { closest_cluster: closest, distance_to_cluster: distance } };
    },
  };
}

async function loadPca(modelDir: string): Promise<Predictor> {
  const list = decodeNDArrayList(await readFile(path.join(modelDir, 'model_algo-1')));
  const get = (name: string) => list.arrays[list.names.indexOf(name)];
  const v = get('v')!;
  const [d, n] = v.shape as [number, number];
  const mean = get('mean')?.data ?? new Float32Array(d);
  return {
    featureDim: d,
    jsonRootKey: 'projections',
    fields: [{ name: 'projection', width: n, scalar: false }],
    async predict(batch) {
      const out = new Float32Array(batch.rows * n);
      for (let r = 0; r < batch.rows; r++) {
        for (let c = 0; c < n; c++) {
          let sum = 0;
          for (let j = 0; j < d; j++) sum += (batch.values[r * d + j]! - mean[j]!) * v.data[j * n + c]!;
          out[r * n + c] = sum;
        }
      }
      return { rows: batch.rows, columns: { projection: out } };
    },
  };
}

function testAlgorithm(name: string, load: (dir: string) => Promise<Predictor>): Algorithm {
  return {
    name,
    hyperparameters: undefined as never,
    train: () => Promise.reject(new Error('test algorithm: serving only')),
    load,
  };
}

/** Registers the test predictors as `kmeans` and `pca`. */
export function registerTestAlgorithms(): void {
  registerAlgorithm('kmeans', async () => testAlgorithm('kmeans', loadKmeans));
  registerAlgorithm('pca', async () => testAlgorithm('pca', loadPca));
}
