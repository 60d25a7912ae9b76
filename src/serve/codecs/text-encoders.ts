import { AnswerWriter, MAX_FLOAT_BYTES, utf8 } from './answer-writer.js';
import { formatFloat } from './number-format.js';
import type { EncodeInput, OutputField } from './types.js';

function value(output: EncodeInput, field: OutputField, row: number): string {
  const column = output.columns[field.name]!;
  if (field.width === 1 && field.scalar) return scalar(column[row * field.width]);
  const parts: string[] = [];
  for (let i = row * field.width; i < (row + 1) * field.width; i++) parts.push(scalar(column[i]));
  return `[${parts.join(', ')}]`;
}

function scalar(v: number | string | undefined): string {
  return typeof v === 'string' ? JSON.stringify(v) : formatFloat(v ?? Number.NaN);
}

function object(output: EncodeInput, fields: readonly OutputField[], row: number): string {
  let text = '{';
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f]!;
    text += `${f ? ', ' : ''}${JSON.stringify(field.name)}: ${value(output, field, row)}`;
  }
  return `${text}}`;
}

/**
 * `application/json`, in the layout and spacing of SageMaker's built-in images:
 * `{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 3.0}]}`.
 */
export function encodeJson(output: EncodeInput): Buffer | string {
  if (numeric(output)) return writeJson(output, false);
  return jsonText(output);
}

/** `encodeJson` as text, the path for string columns (and the reference the byte writer matches). */
export function jsonText(output: EncodeInput): string {
  const rows: string[] = [];
  for (let r = 0; r < output.rows; r++) rows.push(object(output, output.fields, r));
  return `{${JSON.stringify(output.rootKey)}: [${rows.join(', ')}]}`;
}

/** `application/jsonlines`: one object per input record, `{"projection": [1.0, 2.0]}`. */
export function encodeJsonLines(output: EncodeInput): Buffer | string {
  if (numeric(output)) return writeJson(output, true);
  return jsonLinesText(output);
}

/** `encodeJsonLines` as text (string columns; the byte writer's reference). */
export function jsonLinesText(output: EncodeInput): string {
  let text = '';
  for (let r = 0; r < output.rows; r++) text += `${object(output, output.fields, r)}\n`;
  return text;
}

/** `text/csv`: one line per input record, the fields' values in order: `1.0,3.0`. */
export function encodeCsv(output: EncodeInput): Buffer | string {
  if (numeric(output)) return writeCsv(output);
  return csvText(output);
}

/** `encodeCsv` as text (string columns; the byte writer's reference). */
export function csvText(output: EncodeInput): string {
  let text = '';
  for (let r = 0; r < output.rows; r++) {
    let line = '';
    for (const field of output.fields) {
      const column = output.columns[field.name]!;
      for (let i = r * field.width; i < (r + 1) * field.width; i++) {
        const v = column[i];
        line += `${line ? ',' : ''}${typeof v === 'string' ? csvQuote(v) : formatFloat(v ?? Number.NaN)}`;
      }
    }
    text += `${line}\n`;
  }
  return text;
}

function csvQuote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** True when every field's column holds numbers (the byte writers cover those; strings take the text path). */
function numeric(output: EncodeInput): boolean {
  for (const field of output.fields) {
    const column = output.columns[field.name];
    if (!column || (column.length > 0 && typeof column[0] !== 'number')) return false;
    if (!ArrayBuffer.isView(column)) {
      for (let i = 0; i < column.length; i++) if (typeof column[i] !== 'number') return false;
    }
  }
  return true;
}

const COMMA_SPACE = utf8(', ');

/** A JSON answer's pre-encoded keys (`"name": `, then `, "name": `) and head (`{"root": [`). */
interface JsonPieces {
  readonly keys: readonly Uint8Array[];
  readonly rootKey: string;
  readonly head: Uint8Array;
}

/** By the fields list: a model's list is the same object on every request, and encoding it each time cost more than a one-row answer. */
const piecesByFields = new WeakMap<readonly OutputField[], JsonPieces>();

function jsonPieces(fields: readonly OutputField[], rootKey: string): JsonPieces {
  const known = piecesByFields.get(fields);
  if (known && known.rootKey === rootKey && known.keys.length === fields.length) return known;
  const pieces: JsonPieces = {
    keys: fields.map((field, f) => utf8(`${f ? ', ' : ''}${JSON.stringify(field.name)}: `)),
    rootKey,
    head: utf8(`{${JSON.stringify(rootKey)}: [`),
  };
  piecesByFields.set(fields, pieces);
  return pieces;
}

/**
 * The JSON (`lines` false) or JSON Lines answer written straight into one Buffer: the same bytes as
 * `jsonText` / `jsonLinesText` for numeric columns.
 */
function writeJson(output: EncodeInput, lines: boolean): string | Buffer {
  const fields = output.fields;
  const { keys, head } = jsonPieces(fields, output.rootKey);
  const columns = fields.map((field) => output.columns[field.name] as ArrayLike<number>);
  let perRow = 4;
  for (let f = 0; f < fields.length; f++)
    perRow += keys[f]!.length + 2 + fields[f]!.width * (MAX_FLOAT_BYTES + 2);
  const writer = new AnswerWriter(head.length + 2 + output.rows * perRow);
  if (!lines) writer.raw(head);
  for (let r = 0; r < output.rows; r++) {
    if (!lines && r) writer.raw(COMMA_SPACE);
    writer.byte(0x7b);
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      const column = columns[f]!;
      const width = field.width;
      writer.raw(keys[f]!);
      if (width === 1 && field.scalar) {
        writer.float(column[r] ?? Number.NaN);
      } else {
        writer.byte(0x5b);
        for (let i = r * width; i < (r + 1) * width; i++) {
          if (i > r * width) writer.raw(COMMA_SPACE);
          // `?? NaN` as the text encoder: a short column reads as NaN.
          writer.float(column[i] ?? Number.NaN);
        }
        writer.byte(0x5d);
      }
    }
    writer.byte(0x7d);
    if (lines) writer.byte(0x0a);
  }
  if (!lines) {
    writer.byte(0x5d);
    writer.byte(0x7d);
  }
  return writer.done();
}

/** The CSV answer written straight into one Buffer: the same bytes as `csvText` for numeric columns. */
function writeCsv(output: EncodeInput): string | Buffer {
  const fields = output.fields;
  const columns = fields.map((field) => output.columns[field.name] as ArrayLike<number>);
  let perRow = 1;
  for (const field of fields) perRow += field.width * (MAX_FLOAT_BYTES + 1);
  const writer = new AnswerWriter(output.rows * perRow);
  for (let r = 0; r < output.rows; r++) {
    let first = true;
    for (let f = 0; f < fields.length; f++) {
      const width = fields[f]!.width;
      const column = columns[f]!;
      for (let i = r * width; i < (r + 1) * width; i++) {
        if (!first) writer.byte(0x2c);
        first = false;
        writer.float(column[i] ?? Number.NaN);
      }
    }
    writer.byte(0x0a);
  }
  return writer.done();
}
