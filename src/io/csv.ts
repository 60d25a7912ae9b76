import { InputError } from '../util/errors.js';
import { BatchBuilder, streamBatches } from './batch-builder.js';
import type { RecordBatch } from './records.js';
import { NOT_PLAIN, parseDecimalRows } from './wasm-decimals.js';

/** Options for reading numeric CSV into batches. */
export interface CsvOptions {
  /** Named in error messages, e.g. `/opt/ml/input/data/train/part-0.csv`. */
  readonly file: string;
  /** Feature columns per row (after the label columns). */
  readonly featureDim: number;
  /** Leading label columns (`text/csv;label_size=N`), default 0. */
  readonly labelSize?: number;
  readonly batchSize: number;
}

const NL = 10;
const CR = 13;
const COMMA = 44;
const SPACE = 32;
const TAB = 9;
const MAX_EXACT = 2 ** 53;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Where a parser's input starts when it is not the start of a file (one part of a file parsed on its
 * own, `csv-parts.ts`): error messages still give the file's line numbers.
 */
export interface CsvStart {
  /** Lines of the file before the parser's first byte; asked only when an error is reported. */
  linesBefore(): number;
}

/**
 * A push parser for headerless numeric CSV: `write` chunks of any size (lines may cross chunk
 * boundaries), `finish` at the end of the file. Each row's leading `labelSize` columns go to the
 * builder's labels and the rest to its values, parsed straight from the bytes into float32.
 * Blank lines are skipped; LF and CRLF endings are accepted. Keeps no reference to a chunk after
 * `write` returns (a partial last line is copied), so callers may reuse their read buffer.
 * With `start`, the input begins at a line inside the file (no byte order mark is looked for).
 */
export class CsvParser {
  private carry: Buffer | undefined;
  /** Lines begun so far (of this parser's input). */
  private line = 0;
  private readonly columns: number;
  private readonly labelSize: number;

  constructor(
    private readonly file: string,
    private readonly builder: BatchBuilder,
    labelSize = 0,
    private readonly start?: CsvStart,
  ) {
    this.labelSize = labelSize;
    this.columns = labelSize + builder.dim;
    if (builder.labelDim !== labelSize) builder.setLabelDim(labelSize);
  }

  /** The file's 1-based number of the current line, for error messages. */
  private lineNumber(): number {
    return (this.start?.linesBefore() ?? 0) + this.line;
  }

  /** Parses the complete lines of one more chunk and keeps the last partial line for later. */
  write(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      const newline = chunk.indexOf(NL);
      if (newline < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, newline + 1)]);
      this.carry = undefined;
      this.parseLines(joined, 0, joined.length);
      start = newline + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
      return;
    }
    this.parseLines(chunk, start, last + 1);
    if (last + 1 < chunk.length) this.carry = Buffer.from(chunk.subarray(last + 1));
  }

  /** Parses a last line without a newline. */
  finish(): void {
    if (this.carry) {
      const rest = this.carry;
      this.carry = undefined;
      this.parseLines(rest, 0, rest.length);
    }
  }

  /** Parses whole lines in buf[p, end); `end` is just past a newline or the end of the input. */
  private parseLines(buf: Buffer, p: number, end: number): void {
    const builder = this.builder;
    const columns = this.columns;
    const labelSize = this.labelSize;
    while (p < end) {
      this.line += 1;
      // A UTF-8 byte order mark (Excel writes one) is not part of the first cell.
      if (this.line === 1 && !this.start && buf[p] === 0xef && buf[p + 1] === 0xbb && buf[p + 2] === 0xbf)
        p += 3;
      const lineStart = p;
      let ch = buf[p]!;
      if (ch === NL) {
        p += 1;
        continue;
      }
      if (ch === CR && (p + 1 === end || buf[p + 1] === NL)) {
        p += 2;
        continue;
      }
      const values = builder.values;
      const labels = builder.labels;
      const base = builder.rowOffset() - labelSize;
      const labelBase = builder.rows * labelSize;
      for (let column = 0; column < columns; column++) {
        // Inline number parser: exact for up to 2^53 mantissas and |exponent| <= 22 (one correctly
        // rounded multiply or divide); anything else falls back to Number() on the cell text.
        const cellStart = p;
        ch = buf[p]!;
        while (ch === SPACE || ch === TAB) ch = buf[++p]!;
        let negative = false;
        if (ch === 45 || ch === 43) {
          negative = ch === 45;
          ch = buf[++p]!;
        }
        let mantissa = 0;
        let exponent = 0;
        let digits = 0;
        while (ch >= 48 && ch <= 57) {
          mantissa = mantissa * 10 + (ch - 48);
          digits++;
          ch = buf[++p]!;
        }
        if (ch === 46) {
          ch = buf[++p]!;
          while (ch >= 48 && ch <= 57) {
            mantissa = mantissa * 10 + (ch - 48);
            exponent--;
            digits++;
            ch = buf[++p]!;
          }
        }
        let value: number;
        let slow = digits === 0 || mantissa >= MAX_EXACT;
        if (!slow && (ch === 101 || ch === 69)) {
          ch = buf[++p]!;
          let expNegative = false;
          if (ch === 45 || ch === 43) {
            expNegative = ch === 45;
            ch = buf[++p]!;
          }
          let e = 0;
          let expDigits = 0;
          while (ch >= 48 && ch <= 57 && e < 10000) {
            e = e * 10 + (ch - 48);
            expDigits++;
            ch = buf[++p]!;
          }
          if (expDigits === 0) slow = true;
          exponent += expNegative ? -e : e;
        }
        if (!slow && exponent >= -22 && exponent <= 22) {
          value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
          if (negative) value = -value;
          while (ch === SPACE || ch === TAB) ch = buf[++p]!;
        } else {
          // Cells the fast path does not cover (nan, inf, quotes, long mantissas, big exponents).
          p = cellStart;
          while (p < end && buf[p] !== COMMA && buf[p] !== NL && buf[p] !== CR) p++;
          value = this.slowCell(buf, cellStart, p, column, end);
          ch = buf[p]!;
        }
        if (column < labelSize) labels![labelBase + column] = value;
        else values[base + column] = value;
        if (column < columns - 1) {
          if (ch !== COMMA || p >= end) this.badRow(buf, lineStart, end, cellStart, p, column);
          p++;
        } else {
          if (ch === CR) ch = buf[++p]!;
          if (p < end && ch !== NL) this.badRow(buf, lineStart, end, cellStart, p, column);
          p++;
        }
      }
      builder.commitRow();
    }
  }

  private slowCell(buf: Buffer, start: number, end: number, column: number, lineEnd: number): number {
    let text = buf.toString('latin1', start, end).trim();
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
    const lower = text.toLowerCase();
    if (lower === 'nan' || lower === '+nan' || lower === '-nan') return Number.NaN;
    if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
    if (lower === '-inf' || lower === '-infinity') return -Infinity;
    const value = text === '' ? Number.NaN : Number(text);
    if (Number.isNaN(value) || /^[+-]?0[xob]/i.test(text)) {
      this.notANumber(buf, start, end, column, lineEnd);
    }
    return value;
  }

  private notANumber(buf: Buffer, start: number, end: number, column: number, lineEnd: number): never {
    let stop = end;
    while (stop < lineEnd && buf[stop] !== COMMA && buf[stop] !== NL && buf[stop] !== CR) stop++;
    const text = buf.toString('utf8', start, Math.min(stop, start + 40));
    const line = this.lineNumber();
    const header = line === 1 ? ' CSV channels have no header row: remove it.' : '';
    const hint = text.trim() === '' ? 'an empty value' : `'${text}'`;
    throw new InputError(
      `${this.file} line ${line} column ${column + 1}: ${hint} is not a number.${header} Every cell must be a number.`,
    );
  }

  /** Reports a row that is too short or long, or a cell with trailing junk. */
  private badRow(
    buf: Buffer,
    lineStart: number,
    end: number,
    cellStart: number,
    p: number,
    column: number,
  ): never {
    let stop = lineStart;
    let actual = 1;
    while (stop < end && buf[stop] !== NL) {
      if (buf[stop] === COMMA) actual++;
      stop++;
    }
    if (actual !== this.columns) {
      const labels = this.labelSize
        ? `label_size ${this.labelSize} + feature_dim ${this.builder.dim}`
        : 'feature_dim';
      throw new InputError(
        `${this.file} line ${this.lineNumber()}: expected ${this.columns} columns (${labels}), got ${actual}. Every row must have the same width.`,
      );
    }
    return this.notANumber(buf, cellStart, Math.max(p, cellStart), column, end);
  }
}

/**
 * Streams headerless numeric CSV (a Node Readable or async iterable of Buffers) as batches of
 * `batchSize` rows (the last may be smaller); memory holds one chunk and one batch.
 * @example for await (const batch of readCsv(createReadStream(f), { file: f, featureDim: 4, batchSize: 500 }))
 */
export async function* readCsv(
  source: AsyncIterable<Buffer>,
  options: CsvOptions,
): AsyncGenerator<RecordBatch> {
  const labelSize = options.labelSize ?? 0;
  const builder = new BatchBuilder({
    batchSize: options.batchSize,
    dim: options.featureDim,
    labelDim: labelSize,
  });
  yield* streamBatches(source, new CsvParser(options.file, builder, labelSize), builder);
}

/** Options of `parseCsvBody`. */
export interface CsvBodyOptions {
  /** Expected feature columns; when omitted, the first row decides. */
  readonly featureDim?: number;
  readonly labelSize?: number;
  /** Named in errors (default `request body`). */
  readonly file?: string;
  /**
   * Where the values array comes from (default `new Float32Array`): a recycler of request buffers. The
   * array may be longer than the rows need (the batch's `values` is then a view of its start) and need
   * not be zeroed.
   */
  readonly allocate?: (length: number) => Float32Array;
}

/**
 * Parses a whole CSV body (a serving request: one row per line) into one batch.
 * @example parseCsvBody(Buffer.from('1.5,16,14,23\n')) // { rows: 1, dim: 4, values: [1.5, 16, 14, 23] }
 */
export function parseCsvBody(body: Buffer, options: CsvBodyOptions = {}): RecordBatch {
  const file = options.file ?? 'request body';
  const labelSize = options.labelSize ?? 0;
  if (labelSize === 0) {
    const plain = parsePlainCsvBody(body, options.featureDim, options.allocate ?? fresh);
    if (plain) return plain;
  }
  let dim = options.featureDim;
  if (dim === undefined) {
    const first = firstRow(body);
    if (!first) throw new InputError(`${file} holds no rows`);
    let commas = 0;
    for (let i = 0; i < first.length; i++) if (first[i] === COMMA) commas++;
    dim = commas + 1 - labelSize;
    if (dim < 1)
      throw new InputError(`${file} line 1 has ${commas + 1} columns, not more than label_size ${labelSize}`);
  }
  let lines = 1;
  for (let at = body.indexOf(NL); at >= 0; at = body.indexOf(NL, at + 1)) lines++;
  const builder = new BatchBuilder({ batchSize: lines, dim, labelDim: labelSize });
  const parser = new CsvParser(file, builder, labelSize);
  parser.write(body);
  parser.finish();
  builder.flush();
  const [batch] = builder.take();
  if (!batch) throw new InputError(`${file} holds no rows`);
  return batch;
}

function firstRow(body: Buffer): Buffer | undefined {
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(NL, start);
    if (end < 0) end = body.length;
    const line = body.subarray(start, end);
    const trimmed = line.at(-1) === CR ? line.subarray(0, -1) : line;
    if (trimmed.length) return trimmed;
    start = end + 1;
  }
  return undefined;
}

const fresh = (length: number) => new Float32Array(length);

/** Most digits a plain cell may have: its mantissa stays an exact integer (< 2^53) in int and double. */
const PLAIN_DIGITS = 15;

/**
 * The common serving body in one pass, or undefined: rows of plain decimals (`-12.5`, `3`, no spaces,
 * exponents, quotes, BOM or blank lines), all as wide as the first row (or `featureDim`), each
 * ending in `\n` (the last may end the body). Each value is the mantissa divided (or multiplied) by a
 * power of ten, as `CsvParser`'s inline parser computes it, so the float32 values are the same bytes;
 * anything else returns undefined and the general parser reads the body (and words its errors).
 * The WebAssembly kernel (`wasm-decimals.ts`) reads such bodies (and CRLF ones) first; the loop
 * here reads what it cannot (a line longer than its window, no WebAssembly).
 */
function parsePlainCsvBody(
  body: Buffer,
  featureDim: number | undefined,
  allocate: (length: number) => Float32Array,
): RecordBatch | undefined {
  const end = body.length;
  let dim = 1;
  let p = 0;
  for (; p < end; p++) {
    const ch = body[p]!;
    if (ch === NL) break;
    if (ch === COMMA) dim++;
  }
  if (p === 0 || (featureDim !== undefined && featureDim !== dim)) return undefined;
  let rows = body[end - 1] === NL ? 0 : 1;
  for (let at = body.indexOf(NL); at >= 0; at = body.indexOf(NL, at + 1)) rows++;
  const values = allocate(rows * dim);
  const read = parseDecimalRows(body, dim, values);
  if (read === rows * dim) {
    return { rows, dim, values: values.length === rows * dim ? values : values.subarray(0, rows * dim) };
  }
  // The kernel takes every body the loop below takes (and CRLF ones): no second pass to decline it.
  if (read === NOT_PLAIN) return undefined;
  const last = dim - 1;
  let n = 0;
  p = 0;
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < dim; column++) {
      let ch = body[p]! | 0;
      const negative = ch === 45;
      if (negative || ch === 43) ch = body[++p]! | 0;
      // Up to 9 digits in int32 (no float dependency chain), the rest (up to 15) in double.
      let mantissa = 0;
      let digits = 0;
      let d = (ch - 48) | 0;
      while (d >>> 0 <= 9 && digits < 9) {
        mantissa = (mantissa * 10 + d) | 0;
        digits++;
        d = ((body[++p]! | 0) - 48) | 0;
      }
      let value = mantissa;
      while (d >>> 0 <= 9) {
        value = value * 10 + d;
        digits++;
        d = ((body[++p]! | 0) - 48) | 0;
      }
      let scale = 0;
      if (d === 46 - 48) {
        d = ((body[++p]! | 0) - 48) | 0;
        while (d >>> 0 <= 9) {
          value = value * 10 + d;
          digits++;
          scale++;
          d = ((body[++p]! | 0) - 48) | 0;
        }
      }
      // `1.` and `.5` are numbers here as there; a lone sign or an empty cell is not.
      if (digits === 0 || digits > PLAIN_DIGITS) return undefined;
      value = scale === 0 ? value : value / POW10[scale]!;
      values[n++] = negative ? -value : value;
      // The separator: a comma inside the row, a newline (or the body's end) after its last cell.
      ch = d + 48;
      if (column < last) {
        if (ch !== COMMA) return undefined;
      } else if (ch !== NL && p < end) {
        return undefined;
      }
      p++;
    }
  }
  if (p < end) return undefined;
  return { rows, dim, values: values.length === n ? values : values.subarray(0, n) };
}
