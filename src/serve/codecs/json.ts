import { lineOfRow, parseJsonLinesRows, parseJsonRows } from '../../io/json-rows.js';
import { BadRequest, HttpError, PayloadTooLarge } from '../../util/errors.js';
import { floatsFor } from './recycled-floats.js';
import type { DecodedInput, DecodeOptions, Tensor } from './types.js';

type Json = unknown;

/**
 * Deepest nesting of lists and objects a JSON body may have. A tensor needs one level per dimension and
 * the instance shapes a few more; deeper bodies are refused before parsing, so that no walk over them
 * can exhaust the stack (`[` x 100,000 used to answer 500).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Most values one JSON request may expand to (2^24 float32 values = 64 MiB): sparse rows declare their
 * width, so a 50-byte body could otherwise ask for a terabyte.
 */
export const MAX_DENSE_VALUES = 2 ** 24;

const OPEN_LIST = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_LIST = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Throws 400 when `text` nests lists/objects deeper than {@link MAX_JSON_DEPTH} (strings skipped). */
function checkDepth(text: Buffer | string, where: string): void {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_LIST || byte === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new BadRequest(
          `${where} nests lists or objects more than ${MAX_JSON_DEPTH} levels deep; ` +
            'a tensor needs one level per dimension: send at most that many',
        );
      }
    } else if (byte === CLOSE_LIST || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
}

/**
 * Throws 413 when `rows` x `dim` values, after `spent` values already decoded from the same request
 * (earlier JSON Lines), would pass {@link MAX_DENSE_VALUES}.
 */
function checkDenseSize(rows: number, dim: number, what: string, spent = 0): void {
  if (spent + rows * dim > MAX_DENSE_VALUES) {
    const before = spent ? `, after ${spent} in the lines before` : '';
    throw new PayloadTooLarge(
      `${what} expand to ${rows * dim} values (${rows} x ${dim}${before}), more than the ` +
        `${MAX_DENSE_VALUES} (64 MiB of float32) smkit decodes per request; send fewer rows per ` +
        'request or a smaller "shape"',
    );
  }
}

/** Dense or sparse values of one instance, before they are packed into a batch. */
interface Row {
  readonly values: ArrayLike<number>;
  /** Sparse rows: positions of `values` in a row of width `dim`. */
  readonly keys?: readonly number[];
  readonly dim: number;
}

function fail(where: string, what: string): never {
  throw new BadRequest(`${where}: ${what}`);
}

function numbers(value: Json, where: string): number[] {
  if (!Array.isArray(value)) fail(where, `expected a list of numbers, got ${kind(value)}`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'number') {
      fail(where, `value ${i + 1} is ${kind(value[i])}, not a number`);
    }
  }
  return value as number[];
}

function kind(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function sparse(tensor: Record<string, Json>, where: string, featureDim: number | undefined): Row {
  const values = numbers(tensor['values'], `${where} values`);
  const keys = numbers(tensor['keys'], `${where} keys`);
  if (keys.length !== values.length) {
    fail(where, `${keys.length} keys for ${values.length} values; a sparse row needs one key per value`);
  }
  const shape = tensor['shape'] === undefined ? undefined : numbers(tensor['shape'], `${where} shape`);
  if (shape && shape.length !== 1) {
    // SageMaker's built-in algorithms read one flat row per record: a second dimension was silently
    // dropped before, so the keys landed in the wrong places.
    fail(
      where,
      `"shape": [${shape.join(', ')}] has ${shape.length} dimensions; a sparse row is one flat row, ` +
        '"shape": [width]: flatten the features row-major and give keys in the flat row',
    );
  }
  const dim = shape?.[0] ?? featureDim;
  if (dim === undefined || !Number.isInteger(dim) || dim < 0) {
    fail(where, 'a sparse row needs "shape": [width], an integer >= 0');
  }
  checkDenseSize(1, dim, `${where}: "shape": [${dim}] would`);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Number.isInteger(key) || key < 0 || key >= dim) {
      fail(where, `key ${key} is outside the row width ${dim}`);
    }
  }
  return { values, keys, dim };
}

/** One instance in any of the shapes SageMaker's built-in algorithms accept. */
function instance(value: Json, where: string, featureDim: number | undefined): Row {
  if (Array.isArray(value)) {
    const values = numbers(value, where);
    return { values, dim: values.length };
  }
  if (value === null || typeof value !== 'object') {
    fail(where, `expected a list of numbers or {"features": [...]}, got ${kind(value)}`);
  }
  const object = value as Record<string, Json>;
  if ('keys' in object) return sparse(object, where, featureDim);
  if ('values' in object) return instance(object['values'], where, featureDim);
  if ('features' in object) return instance(object['features'], where, featureDim);
  if ('data' in object) return instance(object['data'], where, featureDim);
  fail(where, 'expected "features", "data", "values" or "keys" in the instance object');
}

function pack(rows: readonly Row[], unit: string, spent: number): DecodedInput {
  const dim = rows[0]?.dim ?? 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.dim !== dim) {
      fail(`${unit} ${r + 1}`, `${row.dim} values, but ${unit} 1 has ${dim}; every row needs the same width`);
    }
  }
  checkDenseSize(rows.length, dim, `${rows.length} ${unit}${rows.length === 1 ? '' : 's'} would`, spent);
  const values = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.keys) {
      for (let i = 0; i < row.keys.length; i++) values[r * dim + row.keys[i]!] = row.values[i]!;
    } else {
      values.set(row.values, r * dim);
    }
  }
  return {
    batch: { rows: rows.length, dim, values },
    shape: [rows.length, dim],
    describe: (row) => `${unit} ${row + 1}`,
  };
}

/** A nested list of numbers as a tensor (`[[1,2],[3,4]]` -> shape [2, 2]). */
function tensor(value: Json, where: string): Tensor {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const size = shape.reduce((a, b) => a * b, 1);
  // Checked before allocating: the shape comes from the first items only, so a ragged body could
  // otherwise declare far more values than it holds.
  const check = (node: Json, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') fail(`${where}${path}`, `${kind(node)} is not a number`);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      fail(`${where}${path}`, `expected a list of ${shape[depth]} items (shape ${shape.join('x')})`);
    }
    for (let i = 0; i < node.length; i++) check(node[i], depth + 1, `${path}[${i}]`);
  };
  check(value, 0, '');
  const values = new Float32Array(size);
  let at = 0;
  const fill = (node: Json, depth: number): void => {
    if (depth === shape.length) values[at++] = node as number;
    else for (const item of node as Json[]) fill(item, depth + 1);
  };
  fill(value, 0);
  return { shape, values };
}

function fromTensor(t: Tensor, unit: string): DecodedInput {
  const shape = t.shape.length === 1 ? [1, t.shape[0]!] : t.shape;
  const rows = shape[0] ?? 0;
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  return { batch: { rows, dim, values: t.values }, shape, describe: (row) => `${unit} ${row + 1}` };
}

function rowsOf(
  list: readonly Json[],
  unit: string,
  featureDim: number | undefined,
  spent: number,
): DecodedInput {
  const first = list[0];
  if (Array.isArray(first) && Array.isArray(first[0])) return fromTensor(tensor(list, unit), unit);
  if (typeof first === 'number') return pack([instance(list, `${unit} 1`, featureDim)], unit, spent);
  return pack(
    list.map((item, i) => instance(item, `${unit} ${i + 1}`, featureDim)),
    unit,
    spent,
  );
}

/**
 * Interprets one parsed JSON document (also used per line by the JSON Lines decoder, which passes the
 * values its earlier lines `spent` of the per-request limit).
 */
export function decodeJsonValue(document: Json, featureDim: number | undefined, spent = 0): DecodedInput {
  if (Array.isArray(document)) return rowsOf(document, 'instance', featureDim, spent);
  if (document === null || typeof document !== 'object') {
    fail('body', `expected {"instances": [...]}, {"inputs": ...} or a list, got ${kind(document)}`);
  }
  const object = document as Record<string, Json>;
  if (Array.isArray(object['instances'])) return rowsOf(object['instances'], 'instance', featureDim, spent);
  const inputs = object['inputs'];
  if (Array.isArray(inputs)) return rowsOf(inputs, 'input', featureDim, spent);
  if (inputs !== null && typeof inputs === 'object') {
    const named: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(inputs as Record<string, Json>)) {
      named[name] = tensor(value, `inputs.${name}`);
    }
    const first = Object.values(named)[0];
    if (!first) fail('body', '"inputs" has no entries');
    return { ...fromTensor(first, 'input'), named };
  }
  return pack([instance(object, 'instance 1', featureDim)], 'instance', spent);
}

/**
 * `application/json`: `{"instances": [{"features": [...]}]}`, `{"instances": [{"data": {"features":
 * {"values"|"keys","shape","values"}}}]}`, `{"instances": [[...]]}`, `{"inputs": [...] | {name: [...]}}`,
 * a plain list of rows or a single row.
 */
export function decodeJson(body: Buffer, options: DecodeOptions): DecodedInput {
  // Rows of numbers (`{"instances": [...]}` or a list of lists) are read from the bytes; anything
  // else, errors included, takes JSON.parse and the checks below.
  const rows = parseJsonRows(body, MAX_DENSE_VALUES, floatsFor(body));
  if (rows) return { batch: rows, shape: [rows.rows, rows.dim], describe: (row) => `instance ${row + 1}` };
  return decodeJsonDocument(body, options);
}

/** `decodeJson` without the byte-level fast path: JSON.parse, then `decodeJsonValue`. */
export function decodeJsonDocument(body: Buffer, options: DecodeOptions): DecodedInput {
  let document: Json;
  checkDepth(body, 'the body');
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new BadRequest(`the body is not valid JSON: ${(error as Error).message}`);
  }
  return decodeJsonValue(document, options.featureDim);
}

/** `application/jsonlines`: one instance per line, in any of the JSON instance shapes. */
export function decodeJsonLines(body: Buffer, options: DecodeOptions): DecodedInput {
  const fast = parseJsonLinesRows(body, MAX_DENSE_VALUES, floatsFor(body));
  if (fast) {
    return {
      batch: fast,
      shape: [fast.rows, fast.dim],
      describe: (row) => `line ${lineOfRow(body, row)}`,
    };
  }
  return decodeJsonLinesDocuments(body, options);
}

/** `decodeJsonLines` without the byte-level fast path: JSON.parse per line. */
export function decodeJsonLinesDocuments(body: Buffer, options: DecodeOptions): DecodedInput {
  const lines = body.toString('utf8').split('\n');
  const rows: { values: Float32Array; dim: number; line: number }[] = [];
  let spent = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (!text) continue;
    let document: Json;
    checkDepth(text, `line ${i + 1}`);
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new BadRequest(`line ${i + 1}: not valid JSON: ${(error as Error).message}`);
    }
    let decoded: DecodedInput;
    try {
      decoded = decodeJsonValue(document, options.featureDim, spent);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      throw new HttpError(status, `line ${i + 1}: ${(error as Error).message}`);
    }
    const { batch } = decoded;
    spent += batch.values.length;
    for (let r = 0; r < batch.rows; r++) {
      rows.push({
        values: batch.values.subarray(r * batch.dim, (r + 1) * batch.dim),
        dim: batch.dim,
        line: i + 1,
      });
    }
  }
  const dim = rows[0]?.dim ?? 0;
  const values = new Float32Array(rows.length * dim);
  rows.forEach((row, r) => {
    if (row.dim !== dim) {
      fail(
        `line ${row.line}`,
        `${row.dim} values, but line ${rows[0]!.line} has ${dim}; every row needs the same width`,
      );
    }
    values.set(row.values, r * dim);
  });
  return {
    batch: { rows: rows.length, dim, values },
    shape: [rows.length, dim],
    describe: (row) => `line ${rows[row]?.line ?? row + 1}`,
  };
}
