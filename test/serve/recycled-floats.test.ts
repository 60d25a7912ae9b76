import { expect, test } from 'vitest';
import {
  floatsFor,
  giveFloats,
  isTaken,
  RECYCLE_MIN_BODY_BYTES,
  takeFloats,
} from '../../src/serve/codecs/recycled-floats.js';

test('a given-back buffer serves one later taker, however often it is given back', () => {
  const first = takeFloats(1000);
  giveFloats(first);
  giveFloats(first);
  const a = takeFloats(500);
  const b = takeFloats(500);
  expect(a.buffer).toBe(first.buffer);
  expect(b.buffer).not.toBe(a.buffer);
  expect(a.length).toBe(500);
  giveFloats(a);
  giveFloats(b);
});

test('arrays it did not hand out are not taken in', () => {
  const own = new Float32Array(4096);
  giveFloats(own);
  for (let i = 0; i < 6; i++) expect(takeFloats(4096).buffer).not.toBe(own.buffer);
});

test('small bodies decode into plain arrays, larger ones into recycled buffers', () => {
  const small = floatsFor(Buffer.alloc(RECYCLE_MIN_BODY_BYTES - 1))(50);
  expect(small.length).toBe(50);
  expect(isTaken(small)).toBe(false);
  const large = floatsFor(Buffer.alloc(RECYCLE_MIN_BODY_BYTES))(50);
  expect(isTaken(large)).toBe(true);
  giveFloats(large);
  expect(isTaken(large)).toBe(false);
});

test('a given-back buffer serves a slightly larger taker too (mini-batches vary by a few rows)', () => {
  const first = takeFloats(100_000);
  giveFloats(first);
  const next = takeFloats(103_000);
  expect(next.buffer).toBe(first.buffer);
  expect(next.length).toBe(103_000);
  giveFloats(next);
});

test('small bodies get separate, aligned arrays', () => {
  const allocate = floatsFor(Buffer.alloc(100));
  const arrays = Array.from({ length: 400 }, (_, i) => allocate(1 + (i % 60)));
  for (const [i, array] of arrays.entries()) array.fill(i);
  arrays.forEach((array, i) => {
    expect(array.length).toBe(1 + (i % 60));
    expect(array.byteOffset % 8).toBe(0);
    expect(array.every((v) => v === i)).toBe(true);
  });
});
