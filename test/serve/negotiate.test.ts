import { describe, expect, test } from 'vitest';
import { formatFloat } from '../../src/serve/codecs/number-format.js';
import { acceptsAnything, negotiate, parseMediaType } from '../../src/serve/negotiate.js';

const OFFERS = ['application/json', 'application/jsonlines', 'text/csv', 'application/x-recordio-protobuf'];

describe('negotiate', () => {
  test.each([
    ['text/csv', 'text/csv'],
    ['TEXT/CSV', 'text/csv'],
    ['text/csv;q=0.5, application/json', 'application/json'],
    ['application/json;q=0.2, text/csv;q=0.9', 'text/csv'],
    ['text/*', 'text/csv'],
    ['application/*', 'application/json'],
    ['application/*;q=0.5, application/jsonlines', 'application/jsonlines'],
    ['image/png, */*;q=0.1', 'application/json'],
    ['text/csv;q=0, */*', 'application/json'],
    ['application/x-recordio-protobuf; charset=binary', 'application/x-recordio-protobuf'],
    ['text/csv, application/json', 'text/csv'],
    ['application/json, text/csv', 'application/json'],
  ])('Accept: %s -> %s', (accept, expected) => {
    expect(negotiate(accept, OFFERS)).toBe(expected);
  });

  test.each(['image/png', 'text/html, image/*', 'text/csv;q=0', '*/*;q=0'])('Accept: %s -> 406', (accept) => {
    expect(() => negotiate(accept, OFFERS)).toThrow(
      expect.objectContaining({
        status: 406,
        message: `cannot answer with Accept: ${accept}; this model answers ${OFFERS.join(', ')}`,
      }),
    );
  });

  test('missing, empty and */* Accept mean "use the default"', () => {
    expect(acceptsAnything(undefined)).toBe(true);
    expect(acceptsAnything('')).toBe(true);
    expect(acceptsAnything('*/*')).toBe(true);
    expect(acceptsAnything('*/*;q=0.8')).toBe(true);
    expect(acceptsAnything('text/csv, */*')).toBe(false);
  });

  test('media type parameters are parsed, names lower-cased, quotes removed', () => {
    const media = parseMediaType('Text/CSV; Label_Size=1; charset="utf-8"');
    expect(media.type).toBe('text/csv');
    expect([...media.params]).toEqual([
      ['label_size', '1'],
      ['charset', 'utf-8'],
    ]);
  });
});

describe('formatFloat writes numbers as Python repr does', () => {
  test.each([
    [1, '1.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [3.5, '3.5'],
    [Math.fround(23.40593910217285), '23.40593910217285'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [1.5e300, '1.5e+300'],
    [123456789012345, '123456789012345.0'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('%d -> %s', (value, text) => {
    expect(formatFloat(value)).toBe(text);
  });
});
