import { expect, test } from 'vitest';
import { giveFloats, takeFloats } from '../../src/serve/codecs/recycled-floats.js';

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

test('a given-back buffer serves a slightly larger taker too (mini-batches vary by a few rows)', () => {
  const first = takeFloats(100_000);
  giveFloats(first);
  const next = takeFloats(103_000);
  expect(next.buffer).toBe(first.buffer);
  expect(next.length).toBe(103_000);
  giveFloats(next);
});
