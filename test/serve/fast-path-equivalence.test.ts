import { describe, expect, test } from 'vitest';
import { parseJsonLinesRows, parseJsonRows } from '../../src/io/json-rows.js';
import { encodeRecordIO } from '../../src/io/recordio.js';
import { encodeLabelRecords, encodeRecord } from '../../src/io/recordio-protobuf.js';
import {
  decodeJson,
  decodeJsonDocument,
  decodeJsonLines,
  decodeJsonLinesDocuments,
} from '../../src/serve/codecs/json.js';
import {
  csvText,
  encodeCsv,
  encodeJson,
  encodeJsonLines,
  jsonLinesText,
  jsonText,
} from '../../src/serve/codecs/text-encoders.js';
import type { DecodedInput, EncodeInput } from '../../src/serve/codecs/types.js';
import { parseMediaType } from '../../src/serve/negotiate.js';

// Random bodies through the byte-level fast paths and through the general paths (JSON.parse, the text
// encoders, protobufjs) must give the same rows and messages, or the same bytes.

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const NUMBER_SPELLINGS = [
  () => '0',
  () => '-0',
  () => '-0.0',
  () => '1e5',
  () => '1E-5',
  () => '2.5e+3',
  () => '123456789012345678901234567890',
  () => '0.1234567890123456789',
  () => '1e400',
  () => '1e39',
  () => '-1e-400',
  () => '3.4028235e38',
  () => '1.4e-45',
  () => '01',
  () => '1.',
  () => '.5',
  () => '+1',
  () => '1e',
  () => 'NaN',
  () => '"1"',
  () => 'null',
  () => 'true',
  () => '[1]',
];

/** Whitespace, numbers and rows of width `dim` (now and then another width or shape). */
function pieces(next: () => number, dim: number) {
  const ws = () => [' ', '', '\n', '\t', '\r\n', ''][Math.floor(next() * 6)]!;
  const number = () => {
    if (next() < 0.15) return NUMBER_SPELLINGS[Math.floor(next() * NUMBER_SPELLINGS.length)]!();
    const value = (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4);
    return next() < 0.5 ? String(value) : value.toFixed(Math.floor(next() * 5));
  };
  const row = () => {
    const width = next() < 0.1 ? dim + 1 : dim;
    const list = `[${ws()}${Array.from({ length: width }, number).join(`${ws()},${ws()}`)}${ws()}]`;
    const pick = next();
    if (pick < 0.5) return list;
    if (pick < 0.8) return `{${ws()}"features"${ws()}:${ws()}${list}${ws()}}`;
    if (pick < 0.85) return `{"features": ${list}, "id": 1}`;
    if (pick < 0.9) return `{"data": {"features": {"values": ${list}}}}`;
    if (pick < 0.95) return `{"\\u0066eatures": ${list}}`;
    return number();
  };
  return { ws, number, row };
}

/** Cuts, duplicates or flips one character of `body` now and then. */
function mutate(next: () => number, body: string): string {
  if (next() >= 0.1) return body;
  const at = Math.floor(next() * body.length);
  const op = next();
  return op < 0.33
    ? body.slice(0, at)
    : op < 0.66
      ? body.slice(0, at) + body[at] + body.slice(at)
      : body.slice(0, at) + '[]{},:"x0-.e \n'[Math.floor(next() * 14)] + body.slice(at + 1);
}

/** A body in or near the shapes the fast path reads, with a mutation now and then. */
function jsonBody(next: () => number): string {
  const rows = 1 + Math.floor(next() * 4);
  const { ws, row } = pieces(next, 1 + Math.floor(next() * 4));
  const list = `[${ws()}${Array.from({ length: rows }, row).join(`${ws()},${ws()}`)}${ws()}]`;
  const pick = next();
  const body =
    pick < 0.45
      ? `{${ws()}"instances"${ws()}:${ws()}${list}${ws()}}`
      : pick < 0.9
        ? list
        : pick < 0.95
          ? `{"instances": ${list}, "x": 1}`
          : `{"inputs": ${list}}`;
  return mutate(next, `${ws()}${body}${ws()}`);
}

/** What a caller sees of a decode: the rows (values as bytes) and every row's name, or the error. */
function outcome(decode: () => DecodedInput): unknown {
  try {
    const input = decode();
    const { rows, dim, values } = input.batch;
    return {
      rows,
      dim,
      shape: input.shape,
      named: input.named !== undefined,
      values: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex'),
      describe: Array.from({ length: rows }, (_, r) => input.describe(r)),
    };
  } catch (error) {
    return { status: (error as { status?: number }).status, message: (error as Error).message };
  }
}

const json = { media: parseMediaType('application/json') };
const jsonl = { media: parseMediaType('application/jsonlines') };

describe('the byte-level JSON readers decode exactly what JSON.parse does', () => {
  test('JSON bodies: same rows, names and errors as the general path (2,000 random bodies)', () => {
    const next = random(1);
    let read = 0;
    for (let i = 0; i < 2000; i++) {
      const body = Buffer.from(jsonBody(next));
      if (parseJsonRows(body, 2 ** 24)) read++;
      const fast = outcome(() => decodeJson(body, json));
      const general = outcome(() => decodeJsonDocument(body, json));
      if (JSON.stringify(fast) !== JSON.stringify(general))
        expect({ body: body.toString(), fast }).toEqual({ body: body.toString(), fast: general });
    }
    // Both sides matter: bodies the fast path reads and bodies it hands on.
    expect(read).toBeGreaterThan(300);
    expect(read).toBeLessThan(1900);
  });

  test('JSON Lines bodies: same rows, line names and errors as the general path (2,000 random bodies)', () => {
    const next = random(2);
    let read = 0;
    for (let i = 0; i < 2000; i++) {
      const { ws, row } = pieces(next, 1 + Math.floor(next() * 4));
      const lines = Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
        const pick = next();
        if (pick < 0.1) return ' \t';
        if (pick < 0.2) return jsonBody(next).replaceAll('\n', ' ');
        return mutate(next, `${ws()}${row()}${ws()}`.replaceAll('\n', ' '));
      });
      const body = Buffer.from(lines.join(next() < 0.5 ? '\n' : '\r\n') + (next() < 0.5 ? '\n' : ''));
      if (parseJsonLinesRows(body, 2 ** 24)) read++;
      const fast = outcome(() => decodeJsonLines(body, jsonl));
      const general = outcome(() => decodeJsonLinesDocuments(body, jsonl));
      if (JSON.stringify(fast) !== JSON.stringify(general))
        expect({ body: body.toString(), fast }).toEqual({ body: body.toString(), fast: general });
    }
    expect(read).toBeGreaterThan(100);
    expect(read).toBeLessThan(1900);
  });
});

/** Random float32 columns with integers, -0, NaN, infinities, tiny and huge values. */
function columns(next: () => number, rows: number, widths: readonly number[]): Float32Array[] {
  const special = [0, -0, Number.NaN, Infinity, -Infinity, 1e-7, 1e20, 3, 2 ** 31, 1e16];
  return widths.map((width) =>
    Float32Array.from({ length: rows * width }, () =>
      next() < 0.2
        ? special[Math.floor(next() * special.length)]!
        : (next() - 0.5) * 10 ** Math.floor(next() * 12 - 6),
    ),
  );
}

describe('the byte-level answer writers give the bytes of the general encoders', () => {
  test('JSON, JSON Lines and CSV answers (500 random outputs)', () => {
    const next = random(3);
    for (let i = 0; i < 500; i++) {
      const rows = Math.floor(next() * 5);
      const widths = Array.from({ length: 1 + Math.floor(next() * 3) }, () => Math.floor(next() * 4));
      const data = columns(next, rows, widths);
      const output: EncodeInput = {
        rows,
        fields: widths.map((width, f) => ({ name: `f${f}`, width, scalar: width === 1 && next() < 0.7 })),
        columns: Object.fromEntries(data.map((column, f) => [`f${f}`, column])),
        rootKey: 'predictions',
      };
      expect(Buffer.from(encodeJson(output))).toEqual(Buffer.from(jsonText(output)));
      expect(Buffer.from(encodeJsonLines(output))).toEqual(Buffer.from(jsonLinesText(output)));
      expect(Buffer.from(encodeCsv(output))).toEqual(Buffer.from(csvText(output)));
    }
  });

  test('RecordIO-protobuf answers: the bytes protobufjs and the RecordIO framing give (300 random outputs)', () => {
    const next = random(4);
    for (let i = 0; i < 300; i++) {
      const rows = 1 + Math.floor(next() * 4);
      const widths = Array.from({ length: 1 + Math.floor(next() * 3) }, () => Math.floor(next() * 4));
      const data = columns(next, rows, widths);
      const named = Object.fromEntries(
        data.map((column, f) => [f ? `field_${f}` : 'closest_cluster', column]),
      );
      const expected = Buffer.concat(
        Array.from({ length: rows }, (_, r) =>
          encodeRecordIO(
            encodeRecord({
              label: Object.fromEntries(
                Object.entries(named).map(([name, column], f) => [
                  name,
                  { values: column.subarray(r * widths[f]!, (r + 1) * widths[f]!) },
                ]),
              ),
            }),
          ),
        ),
      );
      expect(encodeLabelRecords(rows, named)).toEqual(expected);
    }
  });

  test('a float that spells the RecordIO magic splits its record as dmlc-core does', () => {
    const magic = new Float32Array(new Uint8Array([0x0a, 0x23, 0xd7, 0xce]).buffer)[0]!;
    // One-float labels put the value at a 4-byte aligned offset of the payload only for some key lengths.
    for (const name of ['a', 'ab', 'abc', 'abcd', 'closest_cluster']) {
      const column = Float32Array.from([1, magic, 2, magic, magic]);
      const expected = Buffer.concat(
        [...column].map((v) => encodeRecordIO(encodeRecord({ label: { [name]: { values: [v] } } }))),
      );
      expect(encodeLabelRecords(column.length, { [name]: column })).toEqual(expected);
    }
  });
});
