import { type Random, randomInt, weightedChoice } from './random.js';

/** How to pick initial centers: uniformly at random, or by k-means++ D^2 sampling. */
export type InitMethod = 'random' | 'kmeans++';

function copyRow(from: ArrayLike<number>, row: number, to: Float64Array, at: number, dim: number): void {
  for (let t = 0; t < dim; t++) to[at * dim + t] = from[row * dim + t]!;
}

/**
 * Picks `count` distinct rows uniformly (partial Fisher-Yates) as centers; `count` <= rows.
 * Rows with weight 0 are never picked unless there are not enough others.
 */
export function randomCenters(
  points: ArrayLike<number>,
  rows: number,
  dim: number,
  count: number,
  random: Random,
  weights?: ArrayLike<number>,
): Float64Array {
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  let eligible = rows;
  if (weights) {
    // Move zero-weight rows to the end so they are drawn last.
    let front = 0;
    for (let i = 0; i < rows; i++) {
      if (weights[order[i]!]! > 0) {
        const t = order[front]!;
        order[front++] = order[i]!;
        order[i] = t;
      }
    }
    eligible = Math.max(front, Math.min(count, rows));
  }
  const centers = new Float64Array(count * dim);
  for (let c = 0; c < count; c++) {
    const pool = c < eligible ? eligible : rows;
    const pick = c + randomInt(random, pool - c);
    const t = order[c]!;
    order[c] = order[pick]!;
    order[pick] = t;
    copyRow(points, order[c]!, centers, c, dim);
  }
  return centers;
}

/**
 * k-means++ (Arthur and Vassilvitskii 2007): each next center is a row drawn with probability
 * weight x squared distance to the nearest chosen center. Weighted, so it also seeds the local Lloyd.
 */
export function kmeansPlusPlusCenters(
  points: ArrayLike<number>,
  rows: number,
  dim: number,
  count: number,
  random: Random,
  weights?: ArrayLike<number>,
): Float64Array {
  const centers = new Float64Array(count * dim);
  const nearest = new Float64Array(rows).fill(Number.POSITIVE_INFINITY);
  const score = new Float64Array(rows);
  let totalWeight = 0;
  for (let i = 0; i < rows; i++) totalWeight += weights ? weights[i]! : 1;
  let first =
    weights && totalWeight > 0 ? weightedChoice(random, weights, totalWeight) : randomInt(random, rows);
  if (first < 0) first = randomInt(random, rows);
  copyRow(points, first, centers, 0, dim);
  for (let c = 1; c < count; c++) {
    const last = (c - 1) * dim;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      const base = i * dim;
      for (let t = 0; t < dim; t++) {
        const diff = points[base + t]! - centers[last + t]!;
        sum += diff * diff;
      }
      if (sum < nearest[i]!) nearest[i] = sum;
      const s = nearest[i]! * (weights ? weights[i]! : 1);
      score[i] = s;
      total += s;
    }
    // All remaining mass sits on chosen centers (duplicates): fall back to a uniform pick.
    const pick = total > 0 ? weightedChoice(random, score, total) : randomInt(random, rows);
    copyRow(points, pick < 0 ? randomInt(random, rows) : pick, centers, c, dim);
  }
  return centers;
}

/** Initial centers by method. */
export function initialCenters(
  method: InitMethod,
  points: ArrayLike<number>,
  rows: number,
  dim: number,
  count: number,
  random: Random,
  weights?: ArrayLike<number>,
): Float64Array {
  return method === 'kmeans++'
    ? kmeansPlusPlusCenters(points, rows, dim, count, random, weights)
    : randomCenters(points, rows, dim, count, random, weights);
}
