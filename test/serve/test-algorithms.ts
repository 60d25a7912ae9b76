import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { registerAlgorithm } from '../../algorithms/registry.js';
import type { Algorithm, Predictor } from '../../algorithms/types.js';
import { decodeNDArrayList } from '../../src/io/mxnet-ndarray.js';

/**
 * A small PCA predictor over the real `model_algo-1` format, registered under the built-in name so the
 * serving tests run before the pca branch is merged.
 */
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

/** Registers the test predictor as `pca`. */
export function registerTestAlgorithms(): void {
  registerAlgorithm('pca', async () => testAlgorithm('pca', loadPca));
}
