import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { describeFailure, writeFailure } from '../../src/train/failure.js';
import { InputError } from '../../src/util/errors.js';

describe('describeFailure', () => {
  test('an InputError is its message alone', () => {
    expect(describeFailure(new InputError('train/a.csv line 2: expected 3 columns, got 2'))).toBe(
      'train/a.csv line 2: expected 3 columns, got 2',
    );
  });

  test('a ZodError lists each issue with its path', () => {
    const result = z.object({ k: z.number() }).safeParse({ k: 'x' });
    expect(describeFailure(result.error)).toBe('k: Invalid input: expected number, received string');
  });

  test('anything else starts with the message, never with the stack', () => {
    const text = describeFailure(new TypeError('x is undefined'));
    expect(text.split('\n')[0]).toBe('Unexpected error: TypeError: x is undefined');
    expect(describeFailure('plain')).toBe('Unexpected error: plain');
  });
});

describe('writeFailure', () => {
  test('writes the text once and keeps an existing file', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'smkit-failure-')), 'output', 'failure');
    expect(await writeFailure(file, 'first')).toBe(true);
    expect(await writeFailure(file, 'second')).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('first\n');
  });

  test('does not overwrite a reason written by user code', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'smkit-failure-')), 'failure');
    await writeFile(file, 'user reason');
    await writeFailure(file, 'smkit reason');
    expect(await readFile(file, 'utf8')).toBe('user reason');
  });
});
