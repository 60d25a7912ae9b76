import { describe, expect, test } from 'vitest';
import { BatchBuilder } from '../../src/io/batch-builder.js';
import { CsvParser, parseCsvBody } from '../../src/io/csv.js';
import type { RecordBatch } from '../../src/io/records.js';

// parseCsvBody reads plain bodies (decimals, commas, newlines) in one pass of its own and hands any
// other body to CsvParser: both must give the same float32 bytes, rows and errors.

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What a caller sees of a parse: rows, width and the float32 bytes, or the error message. */
function outcome(parse: () => RecordBatch | undefined): unknown {
  try {
    const batch = parse();
    if (!batch) return { error: 'request body holds no rows' };
    const { values } = batch;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    return { rows: batch.rows, dim: batch.dim, values: bytes.toString('hex') };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The general parser alone (what parseCsvBody did before its one-pass path), width from the first row. */
function general(body: Buffer): RecordBatch | undefined {
  const text = body.toString('latin1');
  const first = text.split('\n').find((line) => line.replace(/\r$/, '') !== '') ?? '';
  const dim = first.split(',').length;
  let lines = 1;
  for (const ch of text) if (ch === '\n') lines++;
  const builder = new BatchBuilder({ batchSize: lines, dim, labelDim: 0 });
  const parser = new CsvParser('request body', builder, 0);
  parser.write(body);
  parser.finish();
  builder.flush();
  return builder.take()[0];
}

const ODD_CELLS = [
  '1e5',
  ' 2',
  '3 ',
  '"4"',
  'nan',
  '-',
  '+',
  '',
  '.5',
  '1.',
  '-0',
  '+7',
  '1234567890123456',
  '123456789012345',
  '0.000000000000001',
  '99999999999.9999',
  '\t1',
];

function cell(next: () => number): string {
  if (next() < 0.03) return ODD_CELLS[Math.floor(next() * ODD_CELLS.length)]!;
  const value = (next() - 0.5) * 10 ** Math.floor(next() * 12 - 4);
  return next() < 0.5 ? String(value) : value.toFixed(Math.floor(next() * 7));
}

describe('the one-pass CSV body reader', () => {
  test('gives the bytes and errors of the general parser (3,000 random bodies)', () => {
    const next = random(14);
    let plain = 0;
    for (let i = 0; i < 3000; i++) {
      const dim = 1 + Math.floor(next() * 5);
      const rows = Array.from({ length: 1 + Math.floor(next() * 5) }, () => {
        const width = next() < 0.05 ? dim + 1 : dim;
        return Array.from({ length: width }, () => cell(next)).join(',');
      });
      const ending = next() < 0.9 ? '\n' : next() < 0.5 ? '\r\n' : '';
      let text = rows.join(next() < 0.95 ? '\n' : '\r\n') + ending;
      if (next() < 0.03) text = `\n${text}`;
      if (next() < 0.03) text = `\ufeff${text}`;
      const body = Buffer.from(text);
      const expected = outcome(() => general(body));
      if (!(expected as { error?: string }).error && !/[^0-9.,\n+-]/.test(text)) plain++;
      expect({ text, got: outcome(() => parseCsvBody(body)) }).toEqual({ text, got: expected });
    }
    expect(plain).toBeGreaterThan(1500);
  });

  test('values come from the allocator given, and a longer array is viewed from its start', () => {
    const batch = parseCsvBody(Buffer.from('1.5,-2\n3,4.25\n'), {
      allocate: (n) => new Float32Array(n + 3).fill(9),
    });
    expect(batch.rows).toBe(2);
    expect([...batch.values]).toEqual([1.5, -2, 3, 4.25]);
  });
});
