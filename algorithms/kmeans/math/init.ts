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
 * k-means++ (Arthur and Vassilvitskii 2007), greedy as in scikit-learn: each next center is the best
 * (lowest resulting potential) of 2 + ln(count) candidate rows drawn with probability
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
  const weight = (i: number) => (weights ? weights[i]! : 1);
  const nearest = new Float64Array(rows).fill(Number.POSITIVE_INFINITY);
  const score = new Float64Array(rows);
  const candidateNearest = new Float64Array(rows);
  const bestNearest = new Float64Array(rows);
  const trials = 2 + Math.floor(Math.log(count));
  let totalWeight = 0;
  for (let i = 0; i < rows; i++) totalWeight += weight(i);
  let first =
    weights && totalWeight > 0 ? weightedChoice(random, weights, totalWeight) : randomInt(random, rows);
  if (first < 0) first = randomInt(random, rows);
  copyRow(points, first, centers, 0, dim);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    nearest[i] = squaredDistance(points, i, centers, 0, dim);
    score[i] = nearest[i]! * weight(i);
    total += score[i]!;
  }
  for (let c = 1; c < count; c++) {
    if (!(total > 0)) {
      // All remaining mass sits on chosen centers (duplicates): fall back to a uniform pick.
      copyRow(points, randomInt(random, rows), centers, c, dim);
      continue;
    }
    let bestRow = -1;
    let bestTotal = Number.POSITIVE_INFINITY;
    for (let trial = 0; trial < trials; trial++) {
      const candidate = weightedChoice(random, score, total);
      if (candidate < 0) continue;
      let candidateTotal = 0;
      for (let i = 0; i < rows; i++) {
        const d = Math.min(nearest[i]!, squaredDistanceRows(points, i, candidate, dim));
        candidateNearest[i] = d;
        candidateTotal += d * weight(i);
      }
      if (candidateTotal < bestTotal) {
        bestTotal = candidateTotal;
        bestRow = candidate;
        bestNearest.set(candidateNearest);
      }
    }
    if (bestRow < 0) bestRow = randomInt(random, rows);
    copyRow(points, bestRow, centers, c, dim);
    nearest.set(bestNearest);
    total = 0;
    for (let i = 0; i < rows; i++) {
      score[i] = nearest[i]! * weight(i);
      total += score[i]!;
    }
  }
  return centers;
}

function squaredDistance(
  points: ArrayLike<number>,
  row: number,
  centers: Float64Array,
  center: number,
  dim: number,
): number {
  let sum = 0;
  for (let t = 0; t < dim; t++) {
    const diff = points[row * dim + t]! - centers[center * dim + t]!;
    sum += diff * diff;
  }
  return sum;
}

function squaredDistanceRows(points: ArrayLike<number>, a: number, b: number, dim: number): number {
  let sum = 0;
  for (let t = 0; t < dim; t++) {
    const diff = points[a * dim + t]! - points[b * dim + t]!;
    sum += diff * diff;
  }
  return sum;
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
