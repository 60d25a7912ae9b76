/** Test data generators, and scikit-learn references for them (committed: see python-reference.ts). */
import { pythonReference } from './python-reference.js';

/**
 * What a Python snippet prints as JSON, with `X` (float32, rows x dim) loaded from `x`: scikit-learn's
 * answer for this data, read from the committed record `name` (test/fixtures/python/NAME.json).
 */
export function sklearnReference<T>(
  name: string,
  x: Float32Array,
  rows: number,
  dim: number,
  code: string,
): T {
  const script = [
    'import json, sys, numpy as np',
    `X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(${rows}, ${dim})`,
    code,
  ].join('\n');
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return JSON.parse(pythonReference(name, script, [bytes])) as T;
}

/** A deterministic PRNG for test data (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform source (Box-Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * rows x dim data: `rank` latent factors with decreasing scales, mixed by a random matrix, plus
 * `noise`, shifted by `offset`. Low noise makes the data nearly rank `rank`.
 */
export function lowRankData(
  rows: number,
  dim: number,
  rank: number,
  noise: number,
  seed: number,
  offset = 5,
) {
  const normal = gaussian(seededRandom(seed));
  const mixing = Array.from({ length: rank * dim }, () => normal());
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const factors = Array.from({ length: rank }, (_, f) => normal() * (rank - f) * 2);
    for (let j = 0; j < dim; j++) {
      let value = offset + j * 0.5 + noise * normal();
      for (let f = 0; f < rank; f++) value += factors[f]! * mixing[f * dim + j]!;
      x[r * dim + j] = value;
    }
  }
  return x;
}
