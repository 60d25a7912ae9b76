import type { Assigner } from './assign.js';
import { type InitMethod, initialCenters } from './init.js';
import { createRandom } from './random.js';

/** Options of the streaming (web-scale mini-batch) phase. */
export interface WebScaleOptions {
  /** K: the number of streaming centers (k x extra_center_factor). */
  readonly centers: number;
  readonly initMethod: InitMethod;
  /** A point's weight halves after this many further points; 0 = no decay. */
  readonly halfLifeTimeSize: number;
  readonly seed: number;
}

/** What one mini-batch update saw: the squared distances of its points to the centers before the update. */
export interface BatchStats {
  readonly rows: number;
  readonly sumSquaredDistances: number;
}

/**
 * Web-scale mini-batch k-means (Sculley, WWW 2010) with per-center learning rates: each mini-batch is
 * assigned to the nearest centers, then center j moves to (1 - p_j) c_j + p_j mean_j with
 * p_j = m_j / (n_j + m_j), so a center is the running (optionally decayed) mean of its points.
 */
export class WebScaleKMeans {
  /** Centers, `count` x `dim`, float64 master copy. */
  readonly centers: Float64Array;
  /** The same centers in float32, as the assigner takes them. */
  readonly centers32: Float32Array;
  /** Decayed number of points each center has absorbed: its weight in the reduction. */
  readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly batchCounts: Float64Array;

  private constructor(
    readonly count: number,
    readonly dim: number,
    centers: Float64Array,
    private readonly halfLifeTimeSize: number,
  ) {
    this.centers = centers;
    this.centers32 = Float32Array.from(centers);
    this.counts = new Float64Array(count);
    this.sums = new Float64Array(count * dim);
    this.batchCounts = new Float64Array(count);
  }

  /**
   * Initializes from the first mini-batch. When it holds fewer rows than K, K shrinks to its size
   * (SageMaker: "Effective batch size used to initialize is ...").
   */
  static initialize(
    points: Float32Array,
    rows: number,
    dim: number,
    options: WebScaleOptions,
  ): WebScaleKMeans {
    const count = Math.min(options.centers, rows);
    const centers = initialCenters(options.initMethod, points, rows, dim, count, createRandom(options.seed));
    return new WebScaleKMeans(count, dim, centers, options.halfLifeTimeSize);
  }

  /** Restores a state (a checkpoint or another host's summary). */
  static restore(
    centers: Float64Array,
    counts: Float64Array,
    dim: number,
    halfLifeTimeSize: number,
  ): WebScaleKMeans {
    const state = new WebScaleKMeans(counts.length, dim, Float64Array.from(centers), halfLifeTimeSize);
    state.counts.set(counts);
    return state;
  }

  /** Streams one mini-batch into the centers. */
  async update(points: Float32Array, rows: number, assigner: Assigner): Promise<BatchStats> {
    const { count, dim, centers, counts, sums, batchCounts } = this;
    if (this.halfLifeTimeSize > 0) {
      const decay = 0.5 ** (rows / this.halfLifeTimeSize);
      for (let j = 0; j < count; j++) counts[j]! *= decay;
    }
    const { labels, distances } = await assigner.assign(points, rows, this.centers32, count, dim);
    sums.fill(0);
    batchCounts.fill(0);
    let sumSquaredDistances = 0;
    for (let i = 0; i < rows; i++) {
      const j = labels[i]!;
      sumSquaredDistances += distances[i]!;
      batchCounts[j]! += 1;
      const base = i * dim;
      const target = j * dim;
      for (let t = 0; t < dim; t++) sums[target + t]! += points[base + t]!;
    }
    for (let j = 0; j < count; j++) {
      const m = batchCounts[j]!;
      if (m === 0) continue;
      const p = m / (counts[j]! + m);
      const base = j * dim;
      for (let t = 0; t < dim; t++) {
        const value = (1 - p) * centers[base + t]! + (p * sums[base + t]!) / m;
        centers[base + t] = value;
        this.centers32[base + t] = value;
      }
      counts[j]! += m;
    }
    return { rows, sumSquaredDistances };
  }
}
