import { describe, expect, test } from 'vitest';
import { BatchBuilder } from '../../src/io/batch-builder.js';
import { CsvParser, parseCsvBody } from '../../src/io/csv.js';
import type { RecordBatch } from '../../src/io/records.js';
import { DECIMAL_WINDOW, NOT_PLAIN, NOT_READ, parseDecimalRows } from '../../src/io/wasm-decimals.js';

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

/**
 * A plain decimal (signs, leading zeros, `.5`, `5.`, `-0`, as a writer might print) of up to 14
 * digits, or up to 18 with probability about `long`.
 */
function decimal(next: () => number, long = 0.05): string {
  const sign = next() < 0.4 ? '-' : next() < 0.1 ? '+' : '';
  const digits = () => {
    const length = next() < long ? 8 + Math.floor(next() * 2) : Math.floor(next() * 8);
    return Array.from({ length }, () => Math.floor(next() * 10)).join('');
  };
  const whole = next() < 0.1 ? '0' : digits();
  const point = next() < 0.8 ? `.${digits()}` : '';
  const text = `${sign}${whole}${point}`;
  return text.replace(/^[+-]?\.?$/, (s) => `${s}7`);
}

/** Rows of `dim` cells joined by `\n` or `\r\n`, now and then with an odd cell or width. */
function body(next: () => number, dim: number, rows: number, odd: number): string {
  const ending = next() < 0.7 ? '\n' : '\r\n';
  const lines = Array.from({ length: rows }, () => {
    const width = next() < odd ? dim + (next() < 0.5 ? 1 : -1) : dim;
    const cells = Array.from({ length: Math.max(width, 1) }, () =>
      next() < odd ? ODD_CELLS[Math.floor(next() * ODD_CELLS.length)]! : decimal(next),
    );
    return cells.join(',');
  });
  return lines.join(ending) + (next() < 0.8 ? ending : '');
}

describe('the WebAssembly decimal kernel', () => {
  test('gives the float32 bytes of the general parser and declines every body it rejects (4,000 bodies)', () => {
    const next = random(1414);
    let accepted = 0;
    let declined = 0;
    for (let i = 0; i < 4000; i++) {
      const dim = 1 + Math.floor(next() * 8);
      const text = body(next, dim, 1 + Math.floor(next() * 12), next() < 0.3 ? 0.05 : 0);
      const bytes = Buffer.from(text);
      const expected = outcome(() => general(bytes));
      // Small windows put window ends at every kind of place in a row.
      const window = next() < 0.5 ? DECIMAL_WINDOW : 1 + Math.floor(next() * 200);
      const values = new Float32Array(text.length + 1).fill(Number.NaN);
      const n = parseDecimalRows(bytes, dim, values, window);
      if (n < 0) {
        declined++;
        continue;
      }
      accepted++;
      const batch = { rows: n / dim, dim, values: values.subarray(0, n) };
      expect({ text, got: outcome(() => batch) }).toEqual({ text, got: expected });
      // And through the front door, with its errors for the bodies the kernel declines.
      expect({ text, got: outcome(() => parseCsvBody(bytes)) }).toEqual({ text, got: expected });
    }
    expect(accepted).toBeGreaterThan(2000);
    expect(declined).toBeGreaterThan(300);
  });

  test('bodies it declines read as the general parser reads them, errors and all', () => {
    const next = random(77);
    for (let i = 0; i < 2000; i++) {
      const dim = 1 + Math.floor(next() * 4);
      const text = body(next, dim, 1 + Math.floor(next() * 6), 0.15);
      const bytes = Buffer.from(text);
      expect({ text, got: outcome(() => parseCsvBody(bytes)) }).toEqual({
        text,
        got: outcome(() => general(bytes)),
      });
    }
  });

  test('bodies over many windows, an odd cell past the first window, and a line longer than a window', () => {
    const next = random(5);
    const rows = Array.from({ length: 6000 }, () =>
      Array.from({ length: 20 }, () => decimal(next, 0)).join(','),
    );
    const plain = Buffer.from(`${rows.join('\n')}\n`);
    expect(plain.length).toBeGreaterThan(3 * DECIMAL_WINDOW);
    const values = new Float32Array(6000 * 20);
    expect(parseDecimalRows(plain, 20, values)).toBe(6000 * 20);
    expect(outcome(() => parseCsvBody(plain))).toEqual(outcome(() => general(plain)));

    const late = [...rows];
    late[5000] = late[5000]!.replace(/^[^,]*/, '1e3');
    const lateBody = Buffer.from(`${late.join('\r\n')}\r\n`);
    expect(parseDecimalRows(lateBody, 20, values)).toBe(NOT_PLAIN);
    expect(outcome(() => parseCsvBody(lateBody))).toEqual(outcome(() => general(lateBody)));

    const wide = Buffer.from(`${rows.slice(0, 800).join(',')}\n${rows.slice(800, 1600).join(',')}\n`);
    expect(wide.indexOf(10)).toBeGreaterThan(DECIMAL_WINDOW);
    expect(parseDecimalRows(wide, 16000, new Float32Array(32000))).toBe(NOT_READ);
    const wideResult = outcome(() => parseCsvBody(wide));
    expect(wideResult).toMatchObject({ rows: 2, dim: 16000 });
    expect(wideResult).toEqual(outcome(() => general(wide)));
  });
});

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
