import { describe, expect, test } from 'vitest';
import { decodeNDArrayList, encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';

describe('MXNet NDArray list files', () => {
  test('a 2x2 float32 list with no names is exactly 88 bytes, as mx.nd.save writes it', () => {
    const bytes = encodeNDArrayList({
      arrays: [{ shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      names: [],
    });
    expect(bytes.length).toBe(88);
    expect(bytes.toString('hex')).toBe(
      [
        '1201000000000000',
        '0000000000000000',
        '0100000000000000', // list magic, reserved, count
        'c9fa93f9',
        '00000000',
        '02000000',
        '0200000000000000',
        '0200000000000000', // V2 magic, dense, ndim, dims
        '01000000',
        '00000000',
        '00000000', // cpu, dev 0, float32
        '0000803f',
        '00000040',
        '00004040',
        '00008040', // data
        '0000000000000000', // no names
      ].join(''),
    );
    expect(decodeNDArrayList(bytes)).toEqual({
      arrays: [{ shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      names: [],
    });
  });

  test('named arrays round-trip byte for byte (PCA mean/s/v)', () => {
    const list = {
      arrays: [
        { shape: [1, 3], data: new Float32Array([1, 2, 3]) },
        { shape: [2], data: new Float32Array([0.5, 2]) },
        { shape: [3, 2], data: new Float64Array([1, 0, 0, 1, 0, 0]) },
      ],
      names: ['mean', 's', 'v'],
    };
    const bytes = encodeNDArrayList(list);
    const decoded = decodeNDArrayList(bytes);
    expect(decoded).toEqual(list);
    expect(encodeNDArrayList(decoded).equals(bytes)).toBe(true);
  });

  test('reads the V1 layout (no storage type)', () => {
    const v1 = Buffer.from(
      [
        '1201000000000000',
        '0000000000000000',
        '0100000000000000',
        'c8fa93f9',
        '01000000',
        '0200000000000000',
        '01000000',
        '00000000',
        '00000000',
        '0000803f',
        '00000040',
        '0000000000000000',
      ].join(''),
      'hex',
    );
    expect(decodeNDArrayList(v1).arrays[0]).toEqual({ shape: [2], data: new Float32Array([1, 2]) });
  });

  test('reads the legacy layout (u32 ndim and dims)', () => {
    const legacy = Buffer.from(
      [
        '1201000000000000',
        '0000000000000000',
        '0100000000000000',
        '02000000',
        '01000000',
        '02000000',
        '01000000',
        '00000000',
        '00000000',
        '0000803f',
        '00000040',
        '0000000000000000',
      ].join(''),
      'hex',
    );
    expect(decodeNDArrayList(legacy).arrays[0]).toEqual({ shape: [1, 2], data: new Float32Array([1, 2]) });
  });

  test('a truncated file says so', () => {
    const bytes = encodeNDArrayList({ arrays: [{ shape: [2, 2], data: new Float32Array(4) }], names: [] });
    expect(() => decodeNDArrayList(bytes.subarray(0, 60), 'model_algo-1')).toThrow(
      'model_algo-1: truncated MXNet NDArray file',
    );
  });
});
