import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseCsvBody, readCsv } from '../../src/io/csv.js';
import type { RecordBatch } from '../../src/io/records.js';

function chunks(text: string, size: number): AsyncIterable<Buffer> {
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

async function read(
  text: string,
  options: { featureDim: number; labelSize?: number; batchSize?: number; chunk?: number },
): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  const source = chunks(text, options.chunk ?? 3);
  for await (const batch of readCsv(source, { file: 'train/a.csv', batchSize: 100, ...options })) {
    batches.push(batch);
  }
  return batches;
}

const rowsOf = (batches: RecordBatch[]) =>
  batches.flatMap((b) =>
    Array.from({ length: b.rows }, (_, r) => [...b.values.subarray(r * b.dim, (r + 1) * b.dim)]),
  );

describe('numeric CSV', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test.each([1, 2, 3, 7, 64])('parses rows across chunk boundaries of %i bytes', async (chunk) => {
    const text = '1.5,16.0,14,23\n-0.25,1e3,2.5E-2, 7 \n+3,.5,5.,0\n';
    expect(rowsOf(await read(text, { featureDim: 4, chunk }))).toEqual([
      [1.5, 16, 14, 23],
      [-0.25, 1000, Math.fround(0.025), 7],
      [3, 0.5, 5, 0],
    ]);
  });

  test('accepts CRLF, blank lines, a blank trailing line and a last line without newline', async () => {
    expect(rowsOf(await read('1,2\r\n\r\n3,4\r\n\n5,6', { featureDim: 2 }))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(rowsOf(await read('1,2\r\n3,4\r\n\r\n', { featureDim: 2 }))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test('label_size leading columns become labels', async () => {
    const [batch] = await read('0,1.5,2.5\n1,3.5,4.5\n', { featureDim: 2, labelSize: 1 });
    expect([...batch!.values]).toEqual([1.5, 2.5, 3.5, 4.5]);
    expect([...batch!.labels!]).toEqual([0, 1]);
    expect(batch!.labelDim).toBe(1);
  });

  test('matches Number() then float32 rounding on awkward numbers', async () => {
    const cells = [
      '0.1',
      '3.4028234663852886e38',
      '1e-45',
      '123456789012345678901234',
      '0.000000000000000000000000000001',
      '-7.000000000000001',
      '2.5e+10',
      'nan',
      '-inf',
      '"4.5"',
    ];
    const [batch] = await read(cells.join(',') + '\n', { featureDim: cells.length, chunk: 1000 });
    const expected = cells.map((cell) =>
      cell === 'nan'
        ? Number.NaN
        : cell === '-inf'
          ? -Infinity
          : Math.fround(Number(cell.replaceAll('"', ''))),
    );
    expect([...batch!.values]).toEqual(expected);
  });

  test('batches hold exactly batchSize rows, the last fewer', async () => {
    const text = Array.from({ length: 23 }, (_, i) => `${i},${i * 2}`).join('\n');
    const batches = await read(text, { featureDim: 2, batchSize: 10, chunk: 16 });
    expect(batches.map((b) => b.rows)).toEqual([10, 10, 3]);
    expect(rowsOf(batches)[22]).toEqual([22, 44]);
  });

  test.each([
    [
      'a short row',
      '1,2,3\n4,5\n',
      'train/a.csv line 2: expected 3 columns (feature_dim), got 2. Every row must have the same width.',
    ],
    ['a long row', '1,2,3\n\n4,5,6,7\n', 'train/a.csv line 3: expected 3 columns (feature_dim), got 4.'],
    ['a trailing comma', '1,2,3,\n', 'train/a.csv line 1: expected 3 columns (feature_dim), got 4.'],
    [
      'a word',
      '1,2,3\n4,abc,6\n',
      "train/a.csv line 2 column 2: 'abc' is not a number. Every cell must be a number.",
    ],
    ['trailing junk', '1,2,3x\n', "train/a.csv line 1 column 3: '3x' is not a number."],
    ['an empty cell', '1,,3\n', 'train/a.csv line 1 column 2: an empty value is not a number.'],
    [
      'a header row',
      'a,b,c\n1,2,3\n',
      "train/a.csv line 1 column 1: 'a' is not a number. CSV channels have no header row: remove it.",
    ],
  ])('rejects %s naming file, line and column', async (_name, text, message) => {
    await expect(read(text, { featureDim: 3 })).rejects.toThrow(message);
  });

  test('width errors count label columns', async () => {
    await expect(read('1,2,3\n', { featureDim: 3, labelSize: 1 })).rejects.toThrow(
      'train/a.csv line 1: expected 4 columns (label_size 1 + feature_dim 3), got 3.',
    );
  });

  test('streams a real file in small chunks', async () => {
    const file = path.join(dir, 'big.csv');
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i / 8},${-i}`);
    await writeFile(file, rows.join('\r\n') + '\r\n');
    let count = 0;
    let last: number[] = [];
    for await (const batch of readCsv(createReadStream(file, { highWaterMark: 1000 }), {
      file,
      featureDim: 3,
      batchSize: 512,
    })) {
      count += batch.rows;
      last = [...batch.values.subarray((batch.rows - 1) * 3)];
    }
    expect(count).toBe(5000);
    expect(last).toEqual([4999, 4999 / 8, -4999]);
  });

  test('parseCsvBody infers the width from the first row', () => {
    const batch = parseCsvBody(Buffer.from('1.5,16.0,14.0,23.0\r\n2,3,4,5\r\n'));
    expect(batch.rows).toBe(2);
    expect(batch.dim).toBe(4);
    expect([...batch.values]).toEqual([1.5, 16, 14, 23, 2, 3, 4, 5]);
  });

  test('parseCsvBody checks the model width', () => {
    expect(() => parseCsvBody(Buffer.from('1,2,3\n'), { featureDim: 4 })).toThrow(
      'request body line 1: expected 4 columns (feature_dim), got 3.',
    );
    expect(() => parseCsvBody(Buffer.from('\n\n'))).toThrow('request body holds no rows');
  });
});
