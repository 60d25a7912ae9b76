import type { Assigner } from './assign.js';
import { type InitMethod, initialCenters } from './init.js';
import { createRandom } from './random.js';

/** Options of the weighted local Lloyd reduction (SageMaker's local_lloyd_* hyperparameters). */
export interface LocalLloydOptions {
  readonly k: number;
  readonly maxIter: number;
  /** Stop when the loss improves by less than tol x loss. */
  readonly tol: number;
  readonly initMethod: InitMethod;
  readonly trials: number;
  readonly seed: number;
}

/** The best of the local Lloyd attempts. */
export interface LocalLloydResult {
  /** k x dim centers (float64). */
  readonly centers: Float64Array;
  /** Weighted mean squared distance of the points to the best centers: SageMaker's logged train msd. */
  readonly loss: number;
  /** The final loss of every attempt, in order. */
  readonly attempts: readonly number[];
  /** Total weight of the points assigned to each center. */
  readonly clusterWeights: Float64Array;
}

/**
 * Reduces weighted points (the streaming centers and their counts) to k centers: local_lloyd_num_trials
 * runs of weighted Lloyd, each seeded differently, keeping the lowest weighted loss.
 */
export async function localLloyd(
  points: Float64Array,
  weights: Float64Array,
  dim: number,
  options: LocalLloydOptions,
  assigner: Assigner,
): Promise<LocalLloydResult> {
  const rows = weights.length;
  const { k } = options;
  if (k > rows) throw new RangeError(`localLloyd: k=${k} is larger than the number of points (${rows})`);
  const points32 = Float32Array.from(points);
  let totalWeight = 0;
  for (let i = 0; i < rows; i++) totalWeight += weights[i]!;
  const attempts: number[] = [];
  let best: LocalLloydResult | undefined;
  for (let trial = 0; trial < options.trials; trial++) {
    const random = createRandom(options.seed + trial * 7919);
    const centers = initialCenters(options.initMethod, points, rows, dim, k, random, weights);
    const { loss, clusterWeights } = await lloydRun(
      points,
      points32,
      weights,
      totalWeight,
      dim,
      centers,
      options,
      assigner,
    );
    attempts.push(loss);
    if (!best || loss < best.loss) best = { centers, loss, attempts, clusterWeights };
  }
  return { ...best!, attempts };
}

async function lloydRun(
  points: Float64Array,
  points32: Float32Array,
  weights: Float64Array,
  totalWeight: number,
  dim: number,
  centers: Float64Array,
  options: LocalLloydOptions,
  assigner: Assigner,
): Promise<{ loss: number; clusterWeights: Float64Array }> {
  const rows = weights.length;
  const { k } = options;
  const centers32 = new Float32Array(k * dim);
  const sums = new Float64Array(k * dim);
  const clusterWeights = new Float64Array(k);
  let previous = Number.POSITIVE_INFINITY;
  for (let iteration = 0; ; iteration++) {
    centers32.set(centers);
    const { labels, distances } = await assigner.assign(points32, rows, centers32, k, dim);
    let loss = 0;
    sums.fill(0);
    clusterWeights.fill(0);
    for (let i = 0; i < rows; i++) {
      const w = weights[i]!;
      if (w === 0) continue;
      const j = labels[i]!;
      loss += w * distances[i]!;
      clusterWeights[j]! += w;
      const base = i * dim;
      const target = j * dim;
      for (let t = 0; t < dim; t++) sums[target + t]! += w * points[base + t]!;
    }
    loss = totalWeight > 0 ? loss / totalWeight : 0;
    if (iteration >= options.maxIter || (iteration > 0 && previous - loss <= options.tol * previous)) {
      return { loss, clusterWeights: Float64Array.from(clusterWeights) };
    }
    previous = loss;
    for (let j = 0; j < k; j++) {
      const w = clusterWeights[j]!;
      // An empty cluster keeps its center: it cannot move the loss and may win points later.
      if (w === 0) continue;
      for (let t = 0; t < dim; t++) centers[j * dim + t] = sums[j * dim + t]! / w;
    }
  }
}
