import { describe, expect, test } from 'vitest';
import { assertPredictable } from '../../algorithms/predict-input.js';
import { giveFloats, takeFloats } from '../../src/serve/codecs/recycled-floats.js';
import type { DecodedInput } from '../../src/serve/codecs/types.js';
import { isMarkedFinite } from '../../src/io/finite-mark.js';
import { requireFinite } from '../../src/serve/validate.js';

const input = (values: Float32Array, dim: number): DecodedInput => ({
  batch: { rows: values.length / dim, dim, values },
  shape: [values.length / dim, dim],
  describe: (row) => `line ${row + 1}`,
});

describe('one finiteness scan per request', () => {
  test('the model check after requireFinite uses the mark once; the next check scans again', () => {
    const values = new Float32Array([1, 2, 3, 4]);
    requireFinite(input(values, 2));
    assertPredictable({ rows: 2, dim: 2, values }, 2);
    values[3] = Number.NaN;
    expect(() => assertPredictable({ rows: 2, dim: 2, values }, 2)).toThrow(
      'record 2 has NaN in feature 2: send finite numbers',
    );
  });

  test('a recycled buffer does not carry the last request mark', () => {
    const first = takeFloats(4);
    first.set([1, 2, 3, 4]);
    requireFinite(input(first, 2));
    giveFloats(first);
    const second = takeFloats(4);
    expect(second.buffer).toBe(first.buffer);
    expect(isMarkedFinite(second)).toBe(false);
    second.set([1, 2, Number.POSITIVE_INFINITY, 4]);
    expect(() => requireFinite(input(second, 2))).toThrow('line 2, value 1: Infinity is not allowed');
    expect(() => assertPredictable({ rows: 2, dim: 2, values: second }, 2)).toThrow(
      'record 2 has Infinity in feature 1',
    );
  });
});
