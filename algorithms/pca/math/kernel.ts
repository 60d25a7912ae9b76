/**
 * The dense kernels of one streaming PCA pass over a chunk of float32 rows, accumulated into
 * float64. Rows are shifted by `shift` first (an early estimate of the mean), which keeps the
 * float32 products small and the later mean correction free of cancellation.
 */
export interface PcaKernel {
  /** gram += (X - shift)^T (X - shift) (full d x d, row-major); sums += column sums of (X - shift). */
  gram(
    x: Float32Array,
    rows: number,
    shift: Float32Array,
    gram: Float64Array,
    sums: Float64Array,
  ): Promise<void>;
  /**
   * sketch += H (X - shift) for the l x rows sign matrix `signs` (row-major); sums += column sums of
   * (X - shift).
   */
  sketch(
    signs: Float32Array,
    l: number,
    x: Float32Array,
    rows: number,
    shift: Float32Array,
    sketch: Float64Array,
    sums: Float64Array,
  ): Promise<void>;
  /** Frees native resources. */
  close(): Promise<void>;
}

/** Copies row `x[offset..]` minus `shift` into `row` (float64) and adds it to the column `sums`. */
function shiftRow(
  x: ArrayLike<number>,
  offset: number,
  shift: ArrayLike<number>,
  row: Float64Array,
  sums: Float64Array,
): void {
  for (let j = 0; j < row.length; j++) {
    const v = x[offset + j]! - shift[j]!;
    row[j] = v;
    sums[j]! += v;
  }
}

/**
 * The reference kernel in plain TypeScript with float64 arithmetic throughout: exact to float64,
 * about 10x slower than the ONNX Runtime kernel. Used for tests and as a fallback.
 */
export const typescriptKernel: PcaKernel = {
  async gram(x, rows, shift, gram, sums) {
    const d = shift.length;
    const row = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      shiftRow(x, r * d, shift, row, sums);
      for (let i = 0; i < d; i++) {
        const vi = row[i]!;
        const base = i * d;
        for (let j = i; j < d; j++) gram[base + j]! += vi * row[j]!;
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) gram[i * d + j] = gram[j * d + i]!;
  },
  async sketch(signs, l, x, rows, shift, sketch, sums) {
    const d = shift.length;
    const row = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      shiftRow(x, r * d, shift, row, sums);
      for (let i = 0; i < l; i++) {
        const sign = signs[i * rows + r]!;
        const base = i * d;
        for (let j = 0; j < d; j++) sketch[base + j]! += sign * row[j]!;
      }
    }
  },
  async close() {},
};
