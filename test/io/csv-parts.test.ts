import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BatchBuilder } from '../../src/io/batch-builder.js';
import { CsvParser } from '../../src/io/csv.js';
import { type CsvFile, planCsvParts, readCsvParts } from '../../src/io/csv-parts.js';
import type { RecordBatch } from '../../src/io/records.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'csv-parts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(contents: readonly string[]): Promise<CsvFile[]> {
  return Promise.all(
    contents.map(async (text, i) => {
      const file = path.join(dir, `f${i}-${Math.random().toString(36).slice(2)}.csv`);
      await writeFile(file, text);
      return { file, where: file, size: Buffer.byteLength(text) };
    }),
  );
}

/** What the one-thread channel reader yields: one parser per file, one builder across files. */
function sequential(
  texts: readonly string[],
  names: readonly string[],
  dim: number,
  labelSize: number,
  batchSize: number,
) {
  const builder = new BatchBuilder({ batchSize, dim, labelDim: labelSize });
  const batches: RecordBatch[] = [];
  texts.forEach((text, i) => {
    const parser = new CsvParser(names[i]!, builder, labelSize);
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 7) {
      parser.write(bytes.subarray(at, at + 7));
      batches.push(...builder.take());
    }
    parser.finish();
  });
  builder.flush();
  batches.push(...builder.take());
  return batches;
}

async function parallel(
  list: readonly CsvFile[],
  dim: number,
  labelSize: number,
  batchSize: number,
  partBytes: number,
  onPart?: (bytes: number) => void,
) {
  const batches: RecordBatch[] = [];
  const parts = planCsvParts(list, partBytes);
  const options = {
    featureDim: dim,
    labelSize,
    batchSize,
    workers: 3,
    onPart: (_: unknown, b: number) => onPart?.(b),
  };
  for await (const batch of readCsvParts(parts, options)) batches.push(batch);
  return batches;
}

const plain = (batches: RecordBatch[]) =>
  batches.map((b) => ({
    rows: b.rows,
    values: [...b.values.subarray(0, b.rows * b.dim)],
    labels: b.labels && [...b.labels],
  }));

/** Rows of varied width and form: long and short numbers, exponents, CRLF, blank lines, spaces. */
function messy(rows: number, seed: number): string {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells = Array.from({ length: 4 }, (_, c) => {
      const v = (next() - 0.5) * 10 ** Math.floor(next() * 6);
      return c === 2 && r % 5 === 0 ? v.toExponential(3) : r % 7 === 0 ? ` ${v.toFixed(2)} ` : String(v);
    });
    lines.push(cells.join(','));
    if (r % 11 === 0) lines.push('');
  }
  return lines.map((line, i) => (i % 3 === 0 ? `${line}\r\n` : `${line}\n`)).join('');
}

describe('CSV parsed in parts on worker threads', () => {
  test('yields the rows and batches of the one-thread reader, across part and file boundaries', async () => {
    // The last file has no newline at its end; one file is a single line longer than a part.
    const texts = [messy(300, 1), messy(1, 2), '', messy(257, 3), '1,2,3,4\n5,6,7,8'];
    const list = await files(texts);
    const names = list.map((f) => f.where);
    let bytes = 0;
    for (const [labelSize, dim] of [
      [0, 4],
      [1, 3],
    ] as const) {
      for (const partBytes of [13, 1000]) {
        for (const batchSize of [1, 64]) {
          bytes = 0;
          const got = await parallel(list, dim, labelSize, batchSize, partBytes, (b) => {
            bytes += b;
          });
          expect(plain(got)).toEqual(plain(sequential(texts, names, dim, labelSize, batchSize)));
        }
      }
    }
    expect(bytes).toBe(list.reduce((sum, f) => sum + f.size, 0));
  });

  test('errors name the file, line and column the one-thread reader names', async () => {
    const good = messy(200, 4);
    const cases = [
      `${good}1,2,x,4\n${good}`,
      `${good}1,2,3\n${good}`,
      `a,b,c,d\n${good}`,
      `${good}${good}1,2,3,4,5\n`,
    ];
    for (const text of cases) {
      const [file] = await files([text]);
      let expected = '';
      try {
        sequential([text], [file!.where], 4, 0, 10);
      } catch (error) {
        expected = (error as Error).message;
      }
      expect(expected).toMatch(/line \d+/);
      for (const partBytes of [50, 999]) {
        await expect(parallel([file!], 4, 0, 10, partBytes)).rejects.toThrow(expected);
      }
    }
  });

  test('a byte order mark is skipped only at the start of a file', async () => {
    const text = '\ufeff1,2\n3,4\n';
    const list = await files([text, text]);
    const got = await parallel(list, 2, 0, 10, 3);
    expect(plain(got)).toEqual([{ rows: 4, values: [1, 2, 3, 4, 1, 2, 3, 4], labels: undefined }]);
  });
});
