import { describe, expect, it } from 'vitest';
import { compileFilter, splitCsvFields } from '../../src/local/jsonpath.js';

describe('compileFilter', () => {
  it.each([
    ['$', ['a', 'b', 'c'], ['a', 'b', 'c']],
    ['$[1:]', ['a', 'b', 'c'], ['b', 'c']],
    ['$[:2]', ['a', 'b', 'c'], ['a', 'b']],
    ['$[0,2]', ['a', 'b', 'c'], ['a', 'c']],
    ['$[-1]', ['a', 'b', 'c'], ['c']],
    ['$[*]', ['a', 'b'], ['a', 'b']],
  ])('%s on CSV fields', (expression, fields, expected) => {
    expect(compileFilter(expression).csv(fields)).toEqual(expected);
  });

  it.each([
    ['$.features', { features: [1, 2] }, [1, 2]],
    ["$['features'][1:]", { features: [1, 2, 3] }, [2, 3]],
    ['$.a.b', { a: { b: 'x' } }, 'x'],
    ['$[-1]', [1, 2, 3], 3],
    ['$[*].id', [{ id: 1 }, { id: 2 }], [1, 2]],
    ['$.SageMakerOutput', { x: 1, SageMakerOutput: { y: 2 } }, { y: 2 }],
  ])('%s on JSON', (expression, value, expected) => {
    expect(compileFilter(expression).json(value)).toEqual(expected);
  });

  it('says which forms CSV takes and what is out of range', () => {
    expect(() => compileFilter('$.a').csv(['1'])).toThrow(
      "filter '$.a': CSV records take only index forms such as $[1:], $[0,2] or $[-1]",
    );
    expect(() => compileFilter('$[5]').csv(['1'])).toThrow(
      "filter '$[5]': index 5 is out of range for 1 fields",
    );
    expect(() => compileFilter('features')).toThrow("filter 'features': a filter starts with '$'");
  });

  it('splits CSV fields respecting quotes', () => {
    expect(splitCsvFields('a,"b,c",d')).toEqual(['a', '"b,c"', 'd']);
  });
});
