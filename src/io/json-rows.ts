import type { RecordBatch } from './records.js';
import { JsonDecimalLists } from './wasm-decimals.js';

/**
 * Byte-level readers for the common shapes of numeric JSON request bodies, straight into one
 * Float32Array: no JSON.parse, no arrays or objects per row or value. They recognise only
 *   {"instances": [ROW, ...]}   or   [ROW, ...]                  (`parseJsonRows`)
 *   one ROW per line, blank lines skipped                          (`parseJsonLinesRows`)
 * where ROW is `[n, ...]` or `{"features": [n, ...]}`, every row as wide as the first, and return
 * undefined for anything else (other keys, escapes, nesting, non-numbers, ragged or empty rows,
 * invalid JSON, more than `maxValues` values), which the caller hands to the general JSON path:
 * that one keeps the messages and statuses. Values are JSON.parse's doubles rounded to float32.
 * `allocate` (default `new Float32Array`) gives the array sized from the first row (a recycler of
 * request buffers: it need not be zeroed, and `values` is a view of its start).
 * Number lists without spaces or exponents (`[1.5,-2,0.25]`) are read by the WebAssembly kernel of
 * `wasm-decimals.ts`; the scanner here reads the lists it declines.
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const MAX_EXACT = 2 ** 53;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const INSTANCES = [...Buffer.from('instances"')];
const FEATURES = [...Buffer.from('features"')];

const fresh = (length: number) => new Float32Array(length);

/** A forward-only scan over `bytes[p, end)` that writes numbers into a growing Float32Array. */
class RowScanner {
  p = 0;
  values: Float32Array;
  count = 0;

  /** The same bytes as a Buffer, for the rare number read with `Number(text)`. */
  private readonly text: Buffer;
  /** The WebAssembly reader of plain number lists; `numbers` reads what it declines. */
  private readonly lists: JsonDecimalLists;

  constructor(
    readonly bytes: Uint8Array,
    public end: number,
    capacity: number,
    /** Where the one big array (`reserve`) comes from. */
    private readonly allocate: (length: number) => Float32Array = fresh,
  ) {
    this.values = new Float32Array(capacity);
    this.text = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.lists = new JsonDecimalLists(bytes);
  }

  /** Skips JSON whitespace; returns the next byte (0 past the end). */
  ws(): number {
    const bytes = this.bytes;
    let p = this.p;
    let ch = p < this.end ? bytes[p]! : 0;
    while (ch === SPACE || ch === LF || ch === CR || ch === TAB) ch = ++p < this.end ? bytes[p]! : 0;
    this.p = p;
    return ch;
  }

  /** Consumes `"key"` (the opening quote at `p`), no escapes; false when it is another key. */
  key(expected: readonly number[]): boolean {
    const bytes = this.bytes;
    let p = this.p + 1;
    if (p + expected.length > this.end) return false;
    for (let i = 0; i < expected.length; i++) if (bytes[p++] !== expected[i]) return false;
    this.p = p;
    return true;
  }

  /**
   * Reads one row, `[n, ...]` or `{"features": [n, ...]}`, at `p`; returns its width, or -1 when it is
   * anything else.
   */
  row(): number {
    let ch = this.ws();
    if (ch === OPEN_OBJECT) {
      this.p++;
      if (this.ws() !== QUOTE || !this.key(FEATURES)) return -1;
      if (this.ws() !== COLON) return -1;
      this.p++;
      if (this.ws() !== OPEN_LIST) return -1;
      const width = this.numbers();
      if (width < 0) return -1;
      ch = this.ws();
      if (ch !== CLOSE_OBJECT) return -1;
      this.p++;
      return width;
    }
    if (ch !== OPEN_LIST) return -1;
    return this.numbers();
  }

  /** Reads `[n, ...]` (the `[` at `p`, at least one number); returns the count or -1. */
  private numbers(): number {
    this.p++;
    const fast = this.lists.read(this.p);
    if (fast > 0) {
      while (this.count + fast > this.values.length) this.grow();
      this.values.set(this.lists.floats.subarray(0, fast), this.count);
      this.count += fast;
      this.p = this.lists.next;
      return fast;
    }
    let width = 0;
    for (;;) {
      this.ws();
      if (!this.number()) return -1;
      width++;
      const ch = this.ws();
      this.p++;
      if (ch === CLOSE_LIST) return width;
      if (ch !== COMMA) return -1;
    }
  }

  /** Reads one JSON number at `p` into the next value; false when the bytes there are not one. */
  private number(): boolean {
    const bytes = this.bytes;
    const end = this.end;
    const start = this.p;
    let p = start;
    let ch = p < end ? bytes[p]! : 0;
    const negative = ch === MINUS;
    if (negative) ch = ++p < end ? bytes[p]! : 0;
    if (ch < ZERO || ch > NINE) return false;
    let mantissa = 0;
    let exponent = 0;
    if (ch === ZERO) {
      ch = ++p < end ? bytes[p]! : 0;
      // JSON forbids leading zeros ("01").
      if (ch >= ZERO && ch <= NINE) return false;
    } else {
      while (ch >= ZERO && ch <= NINE) {
        mantissa = mantissa * 10 + (ch - ZERO);
        ch = ++p < end ? bytes[p]! : 0;
      }
    }
    if (ch === DOT) {
      ch = ++p < end ? bytes[p]! : 0;
      if (ch < ZERO || ch > NINE) return false;
      while (ch >= ZERO && ch <= NINE) {
        mantissa = mantissa * 10 + (ch - ZERO);
        exponent--;
        ch = ++p < end ? bytes[p]! : 0;
      }
    }
    const exact = mantissa < MAX_EXACT;
    if (ch === 0x65 || ch === 0x45) {
      ch = ++p < end ? bytes[p]! : 0;
      let expNegative = false;
      if (ch === MINUS || ch === 0x2b) {
        expNegative = ch === MINUS;
        ch = ++p < end ? bytes[p]! : 0;
      }
      if (ch < ZERO || ch > NINE) return false;
      let e = 0;
      while (ch >= ZERO && ch <= NINE) {
        if (e < 100000) e = e * 10 + (ch - ZERO);
        ch = ++p < end ? bytes[p]! : 0;
      }
      exponent += expNegative ? -e : e;
    }
    let value: number;
    if (exact && exponent >= -22 && exponent <= 22) {
      // One correctly rounded operation on exact operands: the double JSON.parse gives.
      value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
      if (negative) value = -value;
    } else {
      // Long mantissas and large exponents: the double of the same text, as JSON.parse reads it.
      value = Number(this.text.toString('latin1', start, p));
    }
    if (this.count === this.values.length) this.grow();
    this.values[this.count++] = value;
    this.p = p;
    return true;
  }

  private grow(): void {
    const values = new Float32Array(Math.max(16, this.values.length * 2));
    values.set(this.values);
    this.values = values;
  }

  /** Makes room for `more` values at once (after the first row, from the body's size). */
  reserve(more: number): void {
    if (this.count + more <= this.values.length) return;
    const values = this.allocate(this.count + more);
    values.set(this.values.subarray(0, this.count));
    this.values = values;
  }
}

/** Rows of `width` expected in `remaining` bytes when the first row took `rowBytes`, with a margin. */
function expectedValues(remaining: number, rowBytes: number, width: number): number {
  return Math.ceil((remaining / Math.max(1, rowBytes)) * 1.05 + 1) * width;
}

/**
 * Reads `{"instances": [ROW, ...]}` or `[ROW, ...]` (see the module comment), or returns undefined.
 * @example parseJsonRows(Buffer.from('{"instances": [[1, 2], {"features": [3, 4]}]}'), 1e6) // 2 x 2
 */
export function parseJsonRows(
  body: Uint8Array,
  maxValues: number,
  allocate?: (length: number) => Float32Array,
): RecordBatch | undefined {
  const scan = new RowScanner(body, body.length, 64, allocate);
  let ch = scan.ws();
  const wrapped = ch === OPEN_OBJECT;
  if (wrapped) {
    scan.p++;
    if (scan.ws() !== QUOTE || !scan.key(INSTANCES)) return undefined;
    if (scan.ws() !== COLON) return undefined;
    scan.p++;
    ch = scan.ws();
  }
  if (ch !== OPEN_LIST) return undefined;
  scan.p++;
  const firstStart = scan.p;
  const dim = scan.row();
  if (dim <= 0 || dim > maxValues) return undefined;
  scan.reserve(expectedValues(body.length - scan.p, scan.p - firstStart, dim));
  let rows = 1;
  for (;;) {
    ch = scan.ws();
    scan.p++;
    if (ch === CLOSE_LIST) break;
    if (ch !== COMMA) return undefined;
    if (scan.row() !== dim) return undefined;
    rows++;
    if (rows * dim > maxValues) return undefined;
  }
  if (wrapped) {
    if (scan.ws() !== CLOSE_OBJECT) return undefined;
    scan.p++;
  }
  if (scan.ws() !== 0 || scan.p !== body.length) return undefined;
  return { rows, dim, values: scan.values.subarray(0, rows * dim) };
}

/**
 * Reads JSON Lines with one ROW per line (blank lines: only spaces, tabs and CR, skipped), or returns
 * undefined. `lineOfRow` tells which line a row came from.
 */
export function parseJsonLinesRows(
  body: Uint8Array,
  maxValues: number,
  allocate?: (length: number) => Float32Array,
): RecordBatch | undefined {
  const scan = new RowScanner(body, body.length, 64, allocate);
  let dim = 0;
  let rows = 0;
  let lineStart = 0;
  while (lineStart < body.length) {
    let lineEnd = body.indexOf(LF, lineStart);
    if (lineEnd < 0) lineEnd = body.length;
    scan.p = lineStart;
    scan.end = lineEnd;
    scan.ws();
    if (scan.p < lineEnd) {
      const rowStart = scan.p;
      const width = scan.row();
      if (width <= 0 || (rows > 0 && width !== dim)) return undefined;
      scan.ws();
      if (scan.p !== lineEnd) return undefined;
      if (rows === 0) {
        dim = width;
        scan.reserve(expectedValues(body.length - lineEnd, lineEnd + 1 - rowStart, dim));
      }
      rows++;
      if (rows * dim > maxValues) return undefined;
    }
    lineStart = lineEnd + 1;
  }
  if (rows === 0) return undefined;
  return { rows, dim, values: scan.values.subarray(0, rows * dim) };
}

/** The 1-based line of the `row`-th non-blank line of `body` (for messages about a JSON Lines row). */
export function lineOfRow(body: Uint8Array, row: number): number {
  let seen = -1;
  let line = 0;
  let lineStart = 0;
  while (lineStart <= body.length) {
    let lineEnd = body.indexOf(LF, lineStart);
    if (lineEnd < 0) lineEnd = body.length;
    line++;
    for (let p = lineStart; p < lineEnd; p++) {
      const ch = body[p]!;
      if (ch !== SPACE && ch !== TAB && ch !== CR) {
        if (++seen === row) return line;
        break;
      }
    }
    lineStart = lineEnd + 1;
  }
  return row + 1;
}
