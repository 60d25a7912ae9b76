import { describe, expect, it } from 'vitest';
import { type Assignment, assignJs } from './math/assign.js';
import { createRandom } from './math/random.js';
import { assignWasm, wasmAssigner } from './math/wasm-assign.js';

/** Labels and the distances' bit patterns, so that -0, NaN and last-bit differences all show. */
const bits = ({ labels, distances }: Assignment) => ({
  labels: Array.from(labels),
  distances: Array.from(new Uint32Array(distances.buffer, distances.byteOffset, distances.length)),
});

/** Asserts that the wasm kernel gives assignJs's answer bit for bit. */
function expectSameAsJs(
  points: Float32Array,
  rows: number,
  centers: Float32Array,
  count: number,
  dim: number,
) {
  expect(bits(assignWasm(points, rows, centers, count, dim))).toEqual(
    bits(assignJs(points, rows, centers, count, dim)),
  );
}

const f32 = (values: number[]) => Float32Array.from(values);

describe('the wasm assigner', () => {
  it('finds the nearest center and the squared distance to it', async () => {
    const { labels, distances } = await wasmAssigner.assign(
      f32([0, 0, 4, 3, 10, 1]),
      3,
      f32([0, 0, 10, 0]),
      2,
      2,
    );
    expect(Array.from(labels)).toEqual([0, 0, 1]);
    expect(Array.from(distances)).toEqual([0, 25, 1]);
  });

  it('gives assignJs bits on random blocks of every shape (d 1..70, k 1..40, 1..3000 rows)', () => {
    const random = createRandom(14);
    for (let dim = 1; dim <= 70; dim++) {
      for (const count of [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 40]) {
        const rows = 1 + Math.floor(random() * (dim % 10 === 0 ? 3000 : 60));
        // Centers close together, so that many sums differ only in their last bits.
        const scale = 10 ** Math.floor(random() * 6 - 3);
        const centers = Float32Array.from({ length: count * dim }, () => (random() - 0.5) * scale);
        const points = Float32Array.from({ length: rows * dim }, () => (random() - 0.5) * scale);
        expectSameAsJs(points, rows, centers, count, dim);
        // Rows near one center each: most sums stop early, at different features.
        const near = points.map((v, i) => centers[(Math.floor(i / dim) % count) * dim + (i % dim)]! + v / 8);
        expectSameAsJs(near, rows, centers, count, dim);
      }
    }
  });

  it('breaks ties as assignJs does: the first of equally near centers', () => {
    // Duplicated centers, and points halfway between two.
    const centers = f32([1, 1, -1, -1, 1, 1, -1, -1, 0, 2]);
    const points = f32([0, 0, 1, 1, -1, -1, 0, 1, 0.5, 1.5, 2, 2]);
    const { labels } = assignWasm(points, 6, centers, 5, 2);
    expect(Array.from(labels)).toEqual([0, 0, 1, 0, 0, 0]);
    expectSameAsJs(points, 6, centers, 5, 2);
    const random = createRandom(5);
    for (const dim of [1, 3, 8, 17]) {
      const grid = () => Math.floor(random() * 3) - 1;
      const centers = Float32Array.from({ length: 12 * dim }, grid);
      const points = Float32Array.from({ length: 301 * dim }, grid);
      expectSameAsJs(points, 301, centers, 12, dim);
    }
  });

  it('gives assignJs bits for signed zeros, huge, tiny, subnormal, infinite and NaN values', () => {
    const special = [0, -0, 1e-45, -1e-45, 1.2e-38, 3e-30, -7e-20, 1, -1, 1e18, -3e19, 3.4e38, -3.4e38];
    const random = createRandom(7);
    const pick = () => special[Math.floor(random() * special.length)]!;
    for (const dim of [1, 2, 5, 9, 33]) {
      for (const count of [1, 3, 6, 11]) {
        const centers = Float32Array.from({ length: count * dim }, pick);
        const points = Float32Array.from({ length: 97 * dim }, pick);
        expectSameAsJs(points, 97, centers, count, dim);
      }
    }
    // A NaN or an infinity in a row: no center is nearer than +Infinity, so center 0 at +Infinity.
    const centers = f32([0, 0, 1, 1, Number.POSITIVE_INFINITY, 0]);
    const points = f32([Number.NaN, 0, Number.POSITIVE_INFINITY, 0, Number.NEGATIVE_INFINITY, 1, -0, 0]);
    expect(Array.from(assignWasm(points, 4, centers, 3, 2).distances)).toEqual([
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      0,
    ]);
    expectSameAsJs(points, 4, centers, 3, 2);
  });

  it('handles no rows, no features, no centers, and models of other sizes in between', () => {
    expectSameAsJs(f32([]), 0, f32([1, 2]), 1, 2);
    expectSameAsJs(f32([]), 3, f32([]), 2, 0);
    expectSameAsJs(f32([1, 2, 3, 4]), 2, f32([]), 0, 2);
    // Many centers (the kernel's memory grows) and then few again, on the same dimension.
    const random = createRandom(11);
    const dim = 64;
    for (const count of [300, 1000, 3, 300]) {
      const centers = Float32Array.from({ length: count * dim }, random);
      const points = Float32Array.from({ length: 50 * dim }, random);
      expectSameAsJs(points, 50, centers, count, dim);
    }
  });

  it('lays out centers changed in place between two calls again', () => {
    const centers = f32([0, 0, 0, 0, 10, 10, 10, 10]);
    const points = f32([1, 1, 1, 1, 9, 9, 9, 9]);
    expect(Array.from(assignWasm(points, 2, centers, 2, 4).labels)).toEqual([0, 1]);
    centers.reverse();
    expect(Array.from(assignWasm(points, 2, centers, 2, 4).labels)).toEqual([1, 0]);
    centers[0] = -0; // same value, other bits: the answer is assignJs's either way
    expectSameAsJs(points, 2, centers, 2, 4);
    expectSameAsJs(points, 2, centers, 1, 4);
    // A change in the last value only, past the last whole 16 bytes.
    const three = f32([0, 0, 0, 5, 5, 5, 9, 9, 9]);
    const row = f32([9, 9, 8]);
    expect(Array.from(assignWasm(row, 1, three, 3, 3).labels)).toEqual([2]);
    three[8] = 100;
    expect(Array.from(assignWasm(row, 1, three, 3, 3).labels)).toEqual([1]);
  });

  it('reads only `rows` rows and `count` centers of longer arrays, at their offsets', () => {
    const random = createRandom(2);
    const backing = Float32Array.from({ length: 4000 }, random);
    const points = backing.subarray(13, 13 + 41 * 7 + 50);
    const centers = backing.subarray(1000, 1000 + 6 * 7 + 30);
    expectSameAsJs(points, 41, centers, 6, 7);
  });
});
