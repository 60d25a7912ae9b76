import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { InputError } from '../../../src/util/errors.js';
import type { PcaSummary } from './accumulator.js';

/** A fitted PCA model in SageMaker's layout: components in ASCENDING order of singular value. */
export interface PcaModel {
  readonly dim: number;
  readonly numComponents: number;
  /** The data mean (d), present only when the mean was subtracted. */
  readonly mean: Float64Array | undefined;
  /** Singular values of the centered data, ascending (num_components). */
  readonly s: Float64Array;
  /** Components as columns, d x num_components row-major; column j goes with s[j]. */
  readonly v: Float64Array;
  /** Rows the model was fitted on. */
  readonly n: number;
  /** Total variance of the data (sum over all directions), for explained-variance ratios. */
  readonly totalVariance: number;
}

/** Variance explained by each component (s^2 / (n - 1)), in the model's ascending order. */
export function explainedVariance(model: PcaModel): Float64Array {
  const denominator = Math.max(1, model.n - 1);
  return model.s.map((s) => (s * s) / denominator);
}

/** Flips each column so that its largest-magnitude entry is positive (a deterministic sign). */
function fixSigns(v: Float64Array, d: number, k: number): void {
  for (let c = 0; c < k; c++) {
    let best = 0;
    for (let r = 0; r < d; r++) if (Math.abs(v[r * k + c]!) > Math.abs(best)) best = v[r * k + c]!;
    if (best < 0) for (let r = 0; r < d; r++) v[r * k + c] = -v[r * k + c]!;
  }
}

/**
 * Turns a one-pass summary into the model's top `numComponents` components.
 * Regular: eigendecomposition of the (centered) scatter matrix. Randomized: SVD of the centered
 * sketch C = B - (1/n) h s^T; singular values are scaled by 1/sqrt(l) (E[H^T H] = l I).
 */
export function solvePca(summary: PcaSummary, numComponents: number): PcaModel {
  const { dim: d, n } = summary;
  const k = numComponents;
  if (n === 0) throw new InputError('no records to fit PCA on: the train channel is empty');
  if (!Number.isInteger(k) || k < 1 || k > d) {
    throw new InputError(`num_components must be between 1 and feature_dim ${d} (got ${k})`);
  }
  const meanOffset = summary.sums.map((s) => s / n);
  const mean = summary.subtractMean ? summary.shift.map((c, j) => c + meanOffset[j]!) : undefined;
  const s = new Float64Array(k);
  const v = new Float64Array(d * k);
  let totalVariance: number;

  if (summary.mode === 'regular') {
    const scatter = new Matrix(d, d);
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let value = summary.matrix[i * d + j]!;
        if (summary.subtractMean) value -= (summary.sums[i]! * summary.sums[j]!) / n;
        scatter.set(i, j, value);
      }
      trace += scatter.get(i, i);
    }
    totalVariance = trace / Math.max(1, n - 1);
    const evd = new EigenvalueDecomposition(scatter, { assumeSymmetric: true });
    const values = evd.realEigenvalues;
    const vectors = evd.eigenvectorMatrix;
    // Eigenvalues come ascending; the top k in ascending order are the last k.
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    const top = order.slice(d - k);
    top.forEach((index, c) => {
      s[c] = Math.sqrt(Math.max(0, values[index]!));
      for (let r = 0; r < d; r++) v[r * k + c] = vectors.get(r, index);
    });
  } else {
    const l = summary.sketchRows;
    // C^T (d x l): SVD of the tall matrix; its left singular vectors are C's right ones.
    const ct = new Matrix(d, l);
    let squares = 0;
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < d; j++) {
        let value = summary.matrix[i * d + j]!;
        if (summary.subtractMean) value -= summary.h[i]! * meanOffset[j]!;
        ct.set(j, i, value);
        squares += value * value;
      }
    }
    totalVariance = squares / l / Math.max(1, n - 1);
    const svd = new SingularValueDecomposition(ct, {
      computeLeftSingularVectors: true,
      computeRightSingularVectors: false,
      autoTranspose: true,
    });
    const values = svd.diagonal;
    const u = svd.leftSingularVectors;
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    const available = order.length;
    if (available < k) {
      throw new InputError(
        `randomized PCA found only ${available} directions for num_components ${k}: increase extra_components`,
      );
    }
    const top = order.slice(available - k);
    const scale = 1 / Math.sqrt(l);
    top.forEach((index, c) => {
      s[c] = values[index]! * scale;
      for (let r = 0; r < d; r++) v[r * k + c] = u.get(r, index);
    });
  }
  fixSigns(v, d, k);
  return { dim: d, numComponents: k, mean, s, v, n, totalVariance };
}

/** What a projection needs; model files may hold float32 or float64 arrays. */
export interface ProjectionWeights {
  readonly dim: number;
  readonly numComponents: number;
  readonly mean: Float32Array | Float64Array | undefined;
  /** d x num_components, row-major. */
  readonly v: Float32Array | Float64Array;
}

/**
 * Projects row-major rows onto the components: (x - mean) . v, one row of num_components per input.
 * Float64 arithmetic; the result is rounded to float32 as the model files store it.
 */
export function project(model: ProjectionWeights, values: Float32Array, rows: number): Float32Array {
  const { dim: d, numComponents: k, mean, v } = model;
  const out = new Float32Array(rows * k);
  const centered = new Float64Array(d);
  const acc = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) centered[j] = values[r * d + j]! - (mean ? mean[j]! : 0);
    acc.fill(0);
    for (let j = 0; j < d; j++) {
      const x = centered[j]!;
      const base = j * k;
      for (let c = 0; c < k; c++) acc[c]! += x * v[base + c]!;
    }
    out.set(acc, r * k);
  }
  return out;
}
