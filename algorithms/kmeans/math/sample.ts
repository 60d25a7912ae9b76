import { type Random, randomInt } from './random.js';

/** A uniform reservoir sample of at most `capacity` rows of a stream (Vitter's algorithm R). */
export class RowReservoir {
  readonly values: Float32Array;
  private seen = 0;

  constructor(
    readonly capacity: number,
    readonly dim: number,
    private readonly random: Random,
  ) {
    this.values = new Float32Array(capacity * dim);
  }

  /** Rows held so far. */
  get rows(): number {
    return Math.min(this.seen, this.capacity);
  }

  add(points: Float32Array, rows: number): void {
    const { dim, capacity } = this;
    for (let i = 0; i < rows; i++, this.seen++) {
      const slot = this.seen < capacity ? this.seen : randomInt(this.random, this.seen + 1);
      if (slot < capacity) this.values.set(points.subarray(i * dim, (i + 1) * dim), slot * dim);
    }
  }
}

/**
 * Projects rows onto their top two principal directions (power iteration with deflation, O(rows x dim)
 * per step, no dim x dim matrix), for a 2-D picture of high-dimensional clusters.
 * Returns `rows` x 2 coordinates.
 */
export function projectTo2d(values: Float32Array, rows: number, dim: number, random: Random): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let t = 0; t < dim; t++) mean[t]! += values[i * dim + t]! / rows;
  const centered = new Float64Array(rows * dim);
  for (let i = 0; i < rows; i++)
    for (let t = 0; t < dim; t++) centered[i * dim + t] = values[i * dim + t]! - mean[t]!;
  const directions: Float64Array[] = [];
  for (let component = 0; component < Math.min(2, dim); component++) {
    let v = Float64Array.from({ length: dim }, () => random() - 0.5);
    for (let step = 0; step < 50; step++) {
      const xv = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let t = 0; t < dim; t++) s += centered[i * dim + t]! * v[t]!;
        xv[i] = s;
      }
      const next = new Float64Array(dim);
      for (let i = 0; i < rows; i++)
        for (let t = 0; t < dim; t++) next[t]! += centered[i * dim + t]! * xv[i]!;
      for (const u of directions) {
        let dot = 0;
        for (let t = 0; t < dim; t++) dot += next[t]! * u[t]!;
        for (let t = 0; t < dim; t++) next[t]! -= dot * u[t]!;
      }
      let norm = 0;
      for (let t = 0; t < dim; t++) norm += next[t]! * next[t]!;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let t = 0; t < dim; t++) next[t]! /= norm;
      v = next;
    }
    directions.push(v);
  }
  const out = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    directions.forEach((u, c) => {
      let s = 0;
      for (let t = 0; t < dim; t++) s += centered[i * dim + t]! * u[t]!;
      out[i * 2 + c] = s;
    });
  }
  return out;
}
