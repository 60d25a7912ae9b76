import { describe, expect, test } from 'vitest';
import { decodeNpy, encodeNpy, parseNpyBody } from '../../src/io/npy.js';

// Bytes written by numpy 1.24 `np.save` (and `np.lib.format.write_array(..., version=...)`).
const NUMPY = {
  float32x2x4:
    '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2034292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f00008041000060410000b8410000004000004040000080400000a040',
  int64x3:
    '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a010000000000000002000000000000000300000000000000',
  float64x1x2:
    '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f03f0000000000000040',
  v2: '934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f',
  v3: '934e554d50590300740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f',
};
const bytes = (hex: string) => Buffer.from(hex, 'hex');

describe('NPY', () => {
  test('encodes exactly what numpy.save writes', () => {
    expect(
      encodeNpy({
        dtype: 'float32',
        shape: [2, 4],
        data: new Float32Array([1.5, 16, 14, 23, 2, 3, 4, 5]),
      }).toString('hex'),
    ).toBe(NUMPY.float32x2x4);
    expect(
      encodeNpy({ dtype: 'int64', shape: [3], data: new BigInt64Array([1n, 2n, 3n]) }).toString('hex'),
    ).toBe(NUMPY.int64x3);
    expect(
      encodeNpy({ dtype: 'float64', shape: [1, 2], data: new Float64Array([1, 2]) }).toString('hex'),
    ).toBe(NUMPY.float64x1x2);
  });

  test.each([
    ['float32 2-D', NUMPY.float32x2x4, 2, 4, [1.5, 16, 14, 23, 2, 3, 4, 5]],
    ['int64 1-D (one row)', NUMPY.int64x3, 1, 3, [1, 2, 3]],
    ['float64 2-D', NUMPY.float64x1x2, 1, 2, [1, 2]],
    ['format version 2', NUMPY.v2, 1, 1, [1]],
    ['format version 3', NUMPY.v3, 1, 1, [1]],
  ])('decodes %s into a batch', (_name, hex, rows, dim, values) => {
    // Offset by one byte inside a larger buffer: the data is not 4-byte aligned.
    const unaligned = Buffer.concat([Buffer.from([0]), bytes(hex)]).subarray(1);
    const batch = parseNpyBody(unaligned);
    expect([batch.rows, batch.dim, [...batch.values]]).toEqual([rows, dim, values]);
  });

  test('int32 round trip', () => {
    const array = decodeNpy(
      encodeNpy({ dtype: 'int32', shape: [2, 2], data: new Int32Array([1, -2, 3, -4]) }),
    );
    expect([array.dtype, array.shape, [...array.data]]).toEqual(['int32', [2, 2], [1, -2, 3, -4]]);
  });

  const withHeader = (dict: string) => {
    const text = `${dict}\n`;
    const prefix = Buffer.from('934e554d505901000000', 'hex');
    prefix.writeUInt16LE(text.length, 8);
    return Buffer.concat([prefix, Buffer.from(text), Buffer.alloc(16)]);
  };
  test.each([
    [
      'an object array',
      withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"),
      'NPY object arrays (dtype |O) need pickle, which is refused',
    ],
    [
      'Fortran order',
      withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"),
      'Fortran-order NPY arrays are not supported; save np.ascontiguousarray(arr)',
    ],
    [
      'big-endian floats',
      withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }"),
      "NPY dtype '>f4' is not supported; use little-endian float32",
    ],
    [
      '3-D arrays',
      withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }"),
      'NPY arrays must be 1-D or 2-D (got shape (1, 2, 2))',
    ],
    [
      'short data',
      withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"),
      'NPY data holds 16 bytes, expected 24 for shape (3, 2) <f4',
    ],
    ['no magic', Buffer.from('1,2,3\n'), 'request body is not an NPY file'],
  ])('refuses %s with a clear message', (_name, body, message) => {
    expect(() => parseNpyBody(body)).toThrow(message);
  });

  test('checks the model width', () => {
    expect(() => parseNpyBody(bytes(NUMPY.float32x2x4), { featureDim: 3 })).toThrow(
      'request body: NPY rows have 4 values, expected 3 (feature_dim)',
    );
  });
});
