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
export function encodeJson(output: EncodeInput): string {
  const rows: string[] = [];
  for (let r = 0; r < output.rows; r++) rows.push(object(output, output.fields, r));
  return `{${JSON.stringify(output.rootKey)}: [${rows.join(', ')}]}`;
}

/** `application/jsonlines`: one object per input record, `{"projection": [1.0, 2.0]}`. */
export function encodeJsonLines(output: EncodeInput): string {
  let text = '';
  for (let r = 0; r < output.rows; r++) text += `${object(output, output.fields, r)}\n`;
  return text;
}

/** `text/csv`: one line per input record, the fields' values in order: `1.0,3.0`. */
export function encodeCsv(output: EncodeInput): string {
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
