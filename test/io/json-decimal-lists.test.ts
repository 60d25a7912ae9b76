import { describe, expect, test } from 'vitest';
import { parseJsonLinesRows, parseJsonRows } from '../../src/io/json-rows.js';
import { DECIMAL_WINDOW, JsonDecimalLists } from '../../src/io/wasm-decimals.js';

// The WebAssembly reader of JSON number lists must give JSON.parse's doubles rounded to float32, and
// decline (for the JavaScript scanner, which keeps its answers) everything else. The general
// equivalence with the serving paths is test/serve/fast-path-equivalence.test.ts.

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ODD = ['01', '-01', '00', '1.', '.5', '+1', '-', '1e3', '2.5E-3', '-0.0', '0', '-0', '1 ', ' 1', 'x'];

/** A JSON-ish number: mostly plain decimals of 1 to 17 digits (signs, 0.x, -0), some odd spellings. */
function number(next: () => number): string {
  if (next() < 0.05) return ODD[Math.floor(next() * ODD.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
  const whole = next() < 0.3 ? '0' : `${1 + Math.floor(next() * 9)}${digits(Math.floor(next() * 8))}`;
  const fraction = next() < 0.7 ? `.${digits(1 + Math.floor(next() * 9))}` : '';
  return `${next() < 0.5 ? '-' : ''}${whole}${fraction}`;
}

const list = (next: () => number, width: number) =>
  `[${Array.from({ length: width }, () => number(next)).join(',')}]`;

/** JSON.parse's rows as float32 bytes, or undefined for invalid JSON or ragged rows. */
function reference(text: string): string | undefined {
  let rows: number[][];
  try {
    const parsed = JSON.parse(text);
    rows = Array.isArray(parsed)
      ? parsed
      : parsed.instances.map((row: { features: number[] }) => row.features);
  } catch {
    return undefined;
  }
  if (rows.some((row) => row.length !== rows[0]!.length)) return undefined;
  return Buffer.from(Float32Array.from(rows.flat()).buffer).toString('hex');
}

const hex = (values: Float32Array) =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');

describe('the WebAssembly JSON number-list reader', () => {
  test('reads a list as JSON.parse does or declines it, whatever the window (5,000 lists)', () => {
    const next = random(2026);
    let read = 0;
    for (let i = 0; i < 5000; i++) {
      const text = `[${list(next, 1 + Math.floor(next() * 10))},[1]]`;
      const window = next() < 0.5 ? DECIMAL_WINDOW : 1 + Math.floor(next() * 100);
      const lists = new JsonDecimalLists(Buffer.from(text), window);
      // Read from a later offset first now and then, so the window must move back.
      if (next() < 0.2) lists.read(text.lastIndexOf('[') + 1);
      const count = lists.read(2);
      let expected: number[] | undefined;
      try {
        expected = JSON.parse(text)[0];
      } catch {}
      if (count < 0) continue;
      read++;
      expect({ text, got: hex(lists.floats.subarray(0, count)) }).toEqual({
        text,
        got: hex(Float32Array.from(expected!)),
      });
      expect(text[lists.next - 1]).toBe(']');
      expect(text.slice(lists.next)).toBe(',[1]]');
    }
    expect(read).toBeGreaterThan(2000);
  });

  test('bodies of such lists parse to JSON.parse float32 bytes, and invalid ones are declined (3,000 bodies)', () => {
    const next = random(9);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const dim = 1 + Math.floor(next() * 6);
      const rows = Array.from({ length: 1 + Math.floor(next() * 8) }, () => list(next, dim));
      const text =
        next() < 0.5
          ? `[${rows.join(',')}]`
          : `{"instances":[${rows.map((row) => `{"features":${row}}`).join(',')}]}`;
      const batch = parseJsonRows(Buffer.from(text), 1e6);
      const expected = reference(text);
      if (expected === undefined) {
        expect({ text, batch }).toEqual({ text, batch: undefined });
        continue;
      }
      if (!batch) continue;
      parsed++;
      expect({ text, got: hex(batch.values) }).toEqual({ text, got: expected });
    }
    expect(parsed).toBeGreaterThan(1500);
  });

  test('a body far larger than the window, as JSON and as JSON Lines', () => {
    const next = random(3);
    const plain = () => {
      let text: string;
      do text = number(next);
      while (!/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text));
      return text;
    };
    const rows = Array.from({ length: 3000 }, () => `[${Array.from({ length: 50 }, plain).join(',')}]`);
    const body = Buffer.from(`{"instances":[${rows.map((row) => `{"features":${row}}`).join(',')}]}`);
    expect(body.length).toBeGreaterThan(4 * DECIMAL_WINDOW);
    const expected = reference(body.toString());
    expect(expected).toBeDefined();
    expect(hex(parseJsonRows(body, 1e6)!.values)).toBe(expected);
    const lines = Buffer.from(`${rows.join('\n')}\n`);
    expect(hex(parseJsonLinesRows(lines, 1e6)!.values)).toBe(expected);
  });
});
