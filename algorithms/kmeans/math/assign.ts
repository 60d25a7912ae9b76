/** Nearest-center assignment of a block of points: the hot loop of every k-means phase. */
export interface Assignment {
  /** Index of the nearest center per point. */
  readonly labels: Int32Array;
  /** Squared Euclidean distance to that center per point (>= 0). */
  readonly distances: Float32Array;
}

/** Assigns `rows` x `dim` points (row-major) to the nearest of `count` x `dim` centers. */
export interface Assigner {
  assign(
    points: Float32Array,
    rows: number,
    centers: Float32Array,
    count: number,
    dim: number,
  ): Promise<Assignment>;
  /** Frees native resources, if any. */
  close(): Promise<void>;
}

/**
 * Exact assignment in plain JS (float64 accumulation, direct differences). Fast enough for small blocks,
 * where calling a native runtime costs more than the arithmetic.
 */
export function assignJs(
  points: ArrayLike<number>,
  rows: number,
  centers: ArrayLike<number>,
  count: number,
  dim: number,
): Assignment {
  const labels = new Int32Array(rows);
  const distances = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const base = i * dim;
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let j = 0; j < count; j++) {
      const cbase = j * dim;
      let sum = 0;
      for (let t = 0; t < dim; t++) {
        const diff = points[base + t]! - centers[cbase + t]!;
        sum += diff * diff;
        if (sum >= bestDistance) break;
      }
      if (sum < bestDistance) {
        bestDistance = sum;
        best = j;
      }
    }
    labels[i] = best;
    distances[i] = bestDistance;
  }
  return { labels, distances };
}

/** The plain-JS assigner. */
export const jsAssigner: Assigner = {
  assign: async (points, rows, centers, count, dim) => assignJs(points, rows, centers, count, dim),
  close: async () => {},
};
