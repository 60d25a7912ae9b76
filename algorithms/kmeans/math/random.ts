/** A seeded uniform generator in [0, 1): mulberry32, small and fast; the math modules never use Math.random. */
export type Random = () => number;

/**
 * Creates a seeded generator; the same seed gives the same sequence on every platform.
 * @example const random = createRandom(42); random() // 0.6011...
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Index i drawn with probability weights[i] / sum(weights) (the last positive one if rounding overshoots). */
export function weightedChoice(random: Random, weights: ArrayLike<number>, total: number): number {
  let target = random() * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    last = i;
    target -= w;
    if (target < 0) return i;
  }
  return last;
}
