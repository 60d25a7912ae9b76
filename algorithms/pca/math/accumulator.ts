import { InputError } from '../../../src/util/errors.js';
import type { PcaKernel } from './kernel.js';
import { SignSource } from './random.js';

/** Regular mode keeps the d x d Gram matrix; randomized mode keeps an l x d random sketch. */
export type PcaMode = 'regular' | 'randomized';

/**
 * Everything one pass over some rows leaves behind; memory is independent of the number of rows.
 * All sums are of the shifted rows `x - shift`, so summaries with different shifts can be merged.
 */
export interface PcaSummary {
  readonly mode: PcaMode;
  readonly dim: number;
  readonly n: number;
  readonly subtractMean: boolean;
  /** Sketch rows l (0 in regular mode). */
  readonly sketchRows: number;
  readonly shift: Float64Array;
  /** Column sums of x - shift (d). */
  readonly sums: Float64Array;
  /** Regular: (X - shift)^T (X - shift), d x d row-major. Randomized: H (X - shift), l x d. */
  readonly matrix: Float64Array;
  /** Randomized: row sums of the sign matrix H (l); empty in regular mode. */
  readonly h: Float64Array;
}

/** Options of a streaming PCA pass. */
export interface PcaAccumulatorOptions {
  readonly mode: PcaMode;
  readonly dim: number;
  readonly subtractMean: boolean;
  /** l = num_components + extra_components (randomized mode). */
  readonly sketchRows?: number;
  /** Seed of the random signs (randomized mode); give each host its own. */
  readonly seed?: number;
  readonly kernel: PcaKernel;
  /** Rows per kernel call; default about 2^19 values per chunk. */
  readonly chunkRows?: number;
}

/**
 * One streaming pass of PCA: feed row-major float32 rows of any batch size with `add`, then
 * `finish` for the summary. Rows are regrouped into fixed chunks so tiny mini-batches cost no more
 * kernel calls than large ones.
 */
export class PcaAccumulator {
  private readonly dim: number;
  private readonly chunkRows: number;
  private readonly buffer: Float32Array;
  private readonly l: number;
  private readonly signs: Float32Array;
  private readonly random: SignSource;
  private readonly shift32: Float32Array;
  private readonly sums: Float64Array;
  private readonly matrix: Float64Array;
  private readonly h: Float64Array;
  private filled = 0;
  private flushed = 0;
  private shifted = false;

  constructor(private readonly options: PcaAccumulatorOptions) {
    const d = options.dim;
    this.dim = d;
    this.chunkRows = options.chunkRows ?? Math.max(64, Math.min(16_384, Math.floor(2 ** 19 / d)));
    this.buffer = new Float32Array(this.chunkRows * d);
    this.l = options.mode === 'randomized' ? (options.sketchRows ?? 0) : 0;
    if (options.mode === 'randomized' && this.l < 1) throw new Error('randomized PCA needs sketchRows >= 1');
    this.signs = new Float32Array(this.l * this.chunkRows);
    this.random = new SignSource(options.seed ?? 0);
    this.shift32 = new Float32Array(d);
    this.sums = new Float64Array(d);
    this.matrix = new Float64Array(options.mode === 'regular' ? d * d : this.l * d);
    this.h = new Float64Array(this.l);
  }

  /** Rows seen so far. */
  get rows(): number {
    return this.flushed + this.filled;
  }

  /**
   * Adds `rows` rows of `dim` values. A NaN or infinite value fails with the record's 1-based
   * position in the stream and its column.
   */
  async add(values: Float32Array, rows: number): Promise<void> {
    const d = this.dim;
    if (values.length < rows * d) {
      throw new InputError(`a batch of ${rows} rows needs ${rows * d} values, got ${values.length}`);
    }
    for (let i = 0; i < rows * d; i++) {
      if (!Number.isFinite(values[i]!)) {
        const record = this.rows + Math.floor(i / d) + 1;
        throw new InputError(
          `record ${record} has a non-finite value (${values[i]}) in column ${(i % d) + 1}: ` +
            'PCA needs finite numbers; remove or impute NaN and infinite values',
        );
      }
    }
    let at = 0;
    while (at < rows) {
      const take = Math.min(rows - at, this.chunkRows - this.filled);
      this.buffer.set(values.subarray(at * d, (at + take) * d), this.filled * d);
      this.filled += take;
      at += take;
      if (this.filled === this.chunkRows) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    const rows = this.filled;
    if (rows === 0) return;
    const d = this.dim;
    if (!this.shifted) {
      this.shifted = true;
      if (this.options.subtractMean) {
        const mean = new Float64Array(d);
        for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mean[j]! += this.buffer[r * d + j]!;
        for (let j = 0; j < d; j++) this.shift32[j] = mean[j]! / rows;
      }
    }
    const kernel = this.options.kernel;
    if (this.options.mode === 'regular') {
      await kernel.gram(this.buffer, rows, this.shift32, this.matrix, this.sums);
    } else {
      const signs = this.signs.subarray(0, this.l * rows);
      this.random.fillSigns(signs);
      for (let i = 0; i < this.l; i++) {
        let total = 0;
        for (let r = 0; r < rows; r++) total += signs[i * rows + r]!;
        this.h[i]! += total;
      }
      await kernel.sketch(signs, this.l, this.buffer, rows, this.shift32, this.matrix, this.sums);
    }
    this.flushed += rows;
    this.filled = 0;
  }

  /** Processes the rows still buffered and returns the summary of everything added. */
  async finish(): Promise<PcaSummary> {
    await this.flush();
    return {
      mode: this.options.mode,
      dim: this.dim,
      n: this.flushed,
      subtractMean: this.options.subtractMean,
      sketchRows: this.l,
      shift: Float64Array.from(this.shift32),
      sums: this.sums.slice(),
      matrix: this.matrix.slice(),
      h: this.h.slice(),
    };
  }
}

/** Re-expresses a summary about another shift (exact algebra, no data needed). */
function rebase(summary: PcaSummary, shift: Float64Array): PcaSummary {
  const d = summary.dim;
  const delta = summary.shift.map((c, j) => c - shift[j]!);
  if (delta.every((v) => v === 0)) return summary;
  const sums = summary.sums.map((s, j) => s + summary.n * delta[j]!);
  const matrix = summary.matrix.slice();
  if (summary.mode === 'regular') {
    // sum (y + δ)(y + δ)^T = Y^T Y + δ s^T + s δ^T + n δ δ^T, with s the old sums of y.
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        matrix[i * d + j]! +=
          delta[i]! * summary.sums[j]! + summary.sums[i]! * delta[j]! + summary.n * delta[i]! * delta[j]!;
      }
    }
  } else {
    for (let i = 0; i < summary.sketchRows; i++) {
      for (let j = 0; j < d; j++) matrix[i * d + j]! += summary.h[i]! * delta[j]!;
    }
  }
  return { ...summary, shift: shift.slice(), sums, matrix };
}

/**
 * Merges summaries of disjoint row sets (several hosts) into the summary of their union.
 * Regular mode gives exactly the single-pass result; randomized mode sums independent sketches.
 */
export function mergeSummaries(summaries: readonly PcaSummary[]): PcaSummary {
  const first = summaries[0];
  if (!first) throw new Error('mergeSummaries needs at least one summary');
  for (const s of summaries) {
    if (
      s.mode !== first.mode ||
      s.dim !== first.dim ||
      s.sketchRows !== first.sketchRows ||
      s.subtractMean !== first.subtractMean
    ) {
      throw new InputError(
        `cannot merge PCA summaries of different settings (${s.mode}, d=${s.dim}, l=${s.sketchRows}, ` +
          `subtract_mean=${s.subtractMean} vs ${first.mode}, d=${first.dim}, l=${first.sketchRows}, ` +
          `subtract_mean=${first.subtractMean}): every host must run with the same hyperparameters`,
      );
    }
  }
  const base = summaries.find((s) => s.n > 0) ?? first;
  const merged = {
    ...base,
    n: 0,
    shift: base.shift.slice(),
    sums: new Float64Array(first.dim),
    matrix: new Float64Array(first.matrix.length),
    h: new Float64Array(first.h.length),
  };
  for (const summary of summaries) {
    const s = rebase(summary, base.shift);
    merged.n += s.n;
    for (let i = 0; i < s.sums.length; i++) merged.sums[i]! += s.sums[i]!;
    for (let i = 0; i < s.matrix.length; i++) merged.matrix[i]! += s.matrix[i]!;
    for (let i = 0; i < s.h.length; i++) merged.h[i]! += s.h[i]!;
  }
  return merged;
}
