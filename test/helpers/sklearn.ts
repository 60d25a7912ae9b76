import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's Python with scikit-learn (scripts/ci-install.sh installs it). */
export const PYTHON = '/usr/bin/python3';

/**
 * Runs a Python snippet with `X` (float32, rows x dim) loaded from a temporary file and returns
 * whatever it prints as JSON.
 */
export function runSklearn<T>(x: Float32Array, rows: number, dim: number, code: string): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smkit-sklearn-'));
  try {
    const file = path.join(dir, 'x.f32');
    writeFileSync(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const script = [
      'import json, sys, numpy as np',
      `X = np.fromfile(${JSON.stringify(file)}, dtype=np.float32).reshape(${rows}, ${dim})`,
      code,
    ].join('\n');
    return JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
