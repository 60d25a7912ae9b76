import { describe, expect, test } from 'vitest';
import { typescriptKernel } from './kernel.js';
import { WasmGram, compileGram, gramLayout } from './wasm-gram.js';

/** Rows of `dim` values around 2 with a deterministic spread, float32. */
function rows(count: number, dim: number): Float32Array {
  return Float32Array.from({ length: count * dim }, (_, i) => 2 + 3 * Math.sin(i * 1.7 + 0.3));
}

async function both(x: Float32Array, count: number, dim: number) {
  const shift = Float32Array.from({ length: dim }, (_, j) => 1 + j / 100);
  const { layout, module } = compileGram(dim);
  const wasm = new WasmGram(layout, module);
  const ours = { gram: new Float64Array(dim * dim), sums: new Float64Array(dim) };
  const exact = { gram: new Float64Array(dim * dim), sums: new Float64Array(dim) };
  // Twice: the module's accumulators start from zero again after each call.
  for (let i = 0; i < 2; i++) {
    wasm.add(x, count, shift, ours.gram, ours.sums);
    await typescriptKernel.gram(x, count, shift, exact.gram, exact.sums);
  }
  return { ours, exact };
}

/** Largest |a - b| / (|b| + 1): float32 products summed over blocks lose about 1e-7 per value. */
function worst(a: Float64Array, b: Float64Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!) / (Math.abs(b[i]!) + 1)), 0);
}

describe('the WebAssembly Gram kernel', () => {
  // Every remainder of dim / 4, an odd and an even number of column vectors, and 50 (the benchmark).
  test.each([1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 50, 51])(
    'matches the float64 reference for %i features, both triangles and the column sums',
    async (dim) => {
      const count = 1000;
      const { ours, exact } = await both(rows(count, dim), count, dim);
      expect(worst(ours.gram, exact.gram)).toBeLessThan(2e-6);
      expect(worst(ours.sums, exact.sums)).toBeLessThan(2e-6);
      for (let i = 0; i < dim; i++)
        for (let j = 0; j < i; j++) expect(ours.gram[i * dim + j]).toBe(ours.gram[j * dim + i]);
    },
  );

  test('rows over several pieces and blocks, with a partial last block, add up like one pass', async () => {
    const dim = 6;
    const count = gramLayout(dim).pieceRows * 2 + 37;
    const { ours, exact } = await both(rows(count, dim), count, dim);
    expect(worst(ours.gram, exact.gram)).toBeLessThan(2e-6);
    expect(worst(ours.sums, exact.sums)).toBeLessThan(2e-6);
  });

  test('a NaN or infinity reaches the column sums; the padding read past the last row does not', async () => {
    const dim = 3;
    const x = rows(10, dim);
    x[4] = Number.NaN;
    const nan = await both(x, 10, dim);
    expect(Number.isNaN(nan.ours.sums[1])).toBe(true);
    expect(Number.isFinite(nan.ours.sums[0])).toBe(true);
    // A first call leaves a NaN row in the module's memory right after the second call's rows,
    // where the last vector of the last row reads: the mask keeps it out.
    const { layout, module } = compileGram(dim);
    const wasm = new WasmGram(layout, module);
    const dirty = new Float32Array(11 * dim).fill(Number.NaN);
    const shift = new Float32Array(dim);
    wasm.add(dirty, 11, shift, new Float64Array(dim * dim), new Float64Array(dim));
    const clean = { gram: new Float64Array(dim * dim), sums: new Float64Array(dim) };
    const exact = { gram: new Float64Array(dim * dim), sums: new Float64Array(dim) };
    wasm.add(rows(10, dim), 10, shift, clean.gram, clean.sums);
    await typescriptKernel.gram(rows(10, dim), 10, shift, exact.gram, exact.sums);
    expect(worst(clean.gram, exact.gram)).toBeLessThan(2e-6);
    expect(worst(clean.sums, exact.sums)).toBeLessThan(2e-6);
  });
});
