import { describe, expect, test } from 'vitest';
import { lowRankData, sklearnReference } from '../../../test/helpers/sklearn.js';
import {
  type PcaKernel,
  PcaAccumulator,
  type PcaModel,
  createPcaKernel,
  explainedVariance,
  mergeSummaries,
  project,
  solvePca,
  typescriptKernel,
} from './index.js';

async function fitPca(
  x: Float32Array,
  dim: number,
  k: number,
  kernel: PcaKernel,
  options: {
    mode?: 'regular' | 'randomized';
    subtractMean?: boolean;
    batch?: number;
    chunkRows?: number;
  } = {},
): Promise<PcaModel> {
  const acc = new PcaAccumulator({
    mode: options.mode ?? 'regular',
    dim,
    subtractMean: options.subtractMean ?? true,
    sketchRows: k + Math.max(10, k),
    seed: 7,
    kernel,
    chunkRows: options.chunkRows ?? 500,
  });
  const rows = x.length / dim;
  const batch = options.batch ?? 333;
  for (let r = 0; r < rows; r += batch) {
    const end = Math.min(rows, r + batch);
    await acc.add(x.subarray(r * dim, end * dim), end - r);
  }
  return solvePca(await acc.finish(), k);
}

/** Column c of a d x k row-major matrix. */
function column(v: ArrayLike<number>, d: number, k: number, c: number): number[] {
  return Array.from({ length: d }, (_, r) => v[r * k + c]!);
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
  const norm = (u: number[]) => Math.sqrt(u.reduce((s, x) => s + x * x, 0));
  return dot / (norm(a) * norm(b));
}

interface SklearnPca {
  components: number[][];
  variance: number[];
  singular: number[];
  mean: number[];
}

const ROWS = 3000;
const DIM = 8;
const K = 3;
const data = lowRankData(ROWS, DIM, 5, 0.3, 11, 100);
const reference = sklearnReference<SklearnPca>(
  'pca-math-full-svd',
  data,
  ROWS,
  DIM,
  `from sklearn.decomposition import PCA
p = PCA(n_components=${K}, svd_solver='full').fit(X.astype(np.float64))
print(json.dumps({'components': p.components_.tolist(), 'variance': p.explained_variance_.tolist(),
  'singular': p.singular_values_.tolist(), 'mean': p.mean_.tolist()}))`,
);

describe.each([
  ['TypeScript', async () => typescriptKernel],
  ['WebAssembly and ONNX Runtime', () => createPcaKernel(DIM)],
])('regular PCA with the %s kernel matches scikit-learn', (_name, makeKernel) => {
  test('components up to sign, variances, singular values, mean; ascending order', async () => {
    const kernel = await makeKernel();
    const model = await fitPca(data, DIM, K, kernel);
    await kernel.close();
    // smkit is ascending (smallest first); sklearn is descending.
    for (let c = 0; c < K; c++) {
      const ours = column(model.v, DIM, K, c);
      const theirs = reference.components[K - 1 - c]!;
      expect(Math.abs(cosine(ours, theirs))).toBeGreaterThanOrEqual(0.9999);
    }
    const variance = explainedVariance(model);
    for (let c = 0; c < K; c++) {
      expect(Math.abs(variance[c]! / reference.variance[K - 1 - c]! - 1)).toBeLessThan(1e-4);
      expect(Math.abs(model.s[c]! / reference.singular[K - 1 - c]! - 1)).toBeLessThan(1e-4);
    }
    expect(model.s[0]!).toBeLessThan(model.s[K - 1]!);
    for (const [j, m] of model.mean!.entries()) expect(m).toBeCloseTo(reference.mean[j]!, 3);
  });
});

describe('PCA math', () => {
  test('subtract_mean=false decomposes the uncentered scatter matrix (no mean)', async () => {
    const model = await fitPca(data, DIM, 2, typescriptKernel, { subtractMean: false });
    const top = sklearnReference<number[]>(
      'pca-math-uncentered-svd',
      data,
      ROWS,
      DIM,
      `X = X.astype(np.float64); u, s, vt = np.linalg.svd(X, full_matrices=False); print(json.dumps(vt[0].tolist() + [s[0]]))`,
    );
    expect(model.mean).toBeUndefined();
    expect(Math.abs(cosine(column(model.v, DIM, 2, 1), top.slice(0, DIM)))).toBeGreaterThan(0.9999);
    expect(model.s[1]! / top[DIM]!).toBeCloseTo(1, 5);
  });

  test('randomized mode spans the same subspace as regular mode on low-rank data', async () => {
    const rows = 4000;
    const dim = 40;
    const k = 4;
    const x = lowRankData(rows, dim, k, 0.001, 5, 3);
    const kernel = await createPcaKernel(dim);
    const regular = await fitPca(x, dim, k, kernel);
    const randomized = await fitPca(x, dim, k, kernel, { mode: 'randomized' });
    await kernel.close();
    // Subspace distance: || P_reg - P_rand ||_2 bounded by the Frobenius norm of the difference.
    let diff = 0;
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) {
        let a = 0;
        let b = 0;
        for (let c = 0; c < k; c++) {
          a += regular.v[i * k + c]! * regular.v[j * k + c]!;
          b += randomized.v[i * k + c]! * randomized.v[j * k + c]!;
        }
        diff += (a - b) ** 2;
      }
    }
    expect(Math.sqrt(diff)).toBeLessThan(1e-3);
    expect(randomized.mean!.every((m, j) => Math.abs(m - regular.mean![j]!) < 1e-3)).toBe(true);
  });

  test('merging summaries of shards gives the single-pass result', async () => {
    const all = await fitPca(data, DIM, K, typescriptKernel);
    const shard = async (from: number, to: number) => {
      const acc = new PcaAccumulator({
        mode: 'regular',
        dim: DIM,
        subtractMean: true,
        kernel: typescriptKernel,
      });
      await acc.add(data.subarray(from * DIM, to * DIM), to - from);
      return acc.finish();
    };
    const merged = solvePca(
      mergeSummaries([await shard(0, 1000), await shard(1000, 1001), await shard(1001, ROWS)]),
      K,
    );
    for (let i = 0; i < merged.v.length; i++) expect(merged.v[i]!).toBeCloseTo(all.v[i]!, 8);
    for (let c = 0; c < K; c++) expect(merged.s[c]! / all.s[c]!).toBeCloseTo(1, 10);
  });

  test('projection is (x - mean) . v', () => {
    const model = {
      dim: 2,
      numComponents: 1,
      mean: new Float64Array([1, 2]),
      v: new Float64Array([0.6, 0.8]),
    };
    expect([...project(model, new Float32Array([1, 2, 2, 3]), 2)]).toEqual([0, Math.fround(1.4)]);
  });

  test('NaN, infinite values and empty input fail with the record and column', async () => {
    const pass = async (chunkRows: number) => {
      const acc = new PcaAccumulator({
        mode: 'regular',
        dim: 2,
        subtractMean: true,
        kernel: typescriptKernel,
        chunkRows,
      });
      await acc.add(new Float32Array([1, 2]), 1);
      await acc.add(new Float32Array([1, 2, 3, Number.NaN, 5, 6]), 3);
      await acc.add(new Float32Array([1, Number.POSITIVE_INFINITY]), 1);
      return acc.finish();
    };
    // Found in the first chunk (the shift), in a later chunk, and in the buffered tail.
    await expect(pass(2)).rejects.toThrow('record 3 has a non-finite value (NaN) in column 2');
    await expect(pass(64)).rejects.toThrow('record 3 has a non-finite value (NaN) in column 2');
    const late = new PcaAccumulator({
      mode: 'randomized',
      sketchRows: 2,
      dim: 2,
      subtractMean: false,
      kernel: typescriptKernel,
      chunkRows: 64,
    });
    await late.add(new Float32Array([1, 2, 3, 4, 5, 6]), 3);
    await late.add(new Float32Array([Number.NEGATIVE_INFINITY, 2]), 1);
    await expect(late.finish()).rejects.toThrow('record 4 has a non-finite value (-Infinity) in column 1');
    const empty = new PcaAccumulator({
      mode: 'regular',
      dim: 2,
      subtractMean: true,
      kernel: typescriptKernel,
    });
    await expect(empty.finish().then((s) => solvePca(s, 1))).rejects.toThrow('the train channel is empty');
  });
});
