/**
 * Turns whatever user hooks return into a response: a ready body, host tensors (encoded like ONNX
 * outputs), or plain values (JSON, JSON Lines, CSV by Accept).
 */
import { NotAcceptable } from '../../../util/errors.js';
import { chooseEncoding } from '../../codecs/index.js';
import { formatFloat } from '../../codecs/number-format.js';
import type { InvocationResponse } from '../../handler.js';
import { negotiate, parseAccept } from '../../negotiate.js';
import { outputRows } from '../../tensor/outputs.js';
import { isHostTensor, isNamedTensors } from '../../tensor/tensor.js';

const VALUE_TYPES = ['application/json', 'application/jsonlines', 'text/csv'] as const;

/** The media type a hook's ready-made body is labelled with: the most preferred concrete Accept type. */
export function concreteType(accept: string | undefined): string {
  const ranges = parseAccept(accept ?? '')
    .filter((r) => r.q > 0 && !r.type.includes('*'))
    .sort((a, b) => b.q - a.q || a.order - b.order);
  return ranges[0]?.type ?? 'application/json';
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, Number);
  }
  return value;
}

function csvCell(value: unknown): string {
  if (typeof value === 'number') return formatFloat(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  throw new NotAcceptable(
    `the prediction holds ${value === null ? 'null' : typeof value} values, which text/csv cannot carry: ` +
      'ask for application/json, or define outputFn',
  );
}

function toList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  return undefined;
}

function encodePlain(value: unknown, type: string): string {
  if (type === 'application/json') return JSON.stringify(value, jsonReplacer) ?? 'null';
  const list = toList(value) ?? [value];
  if (type === 'application/jsonlines')
    return `${list.map((v) => JSON.stringify(v, jsonReplacer)).join('\n')}\n`;
  const lines = list.map((row) => (toList(row) ?? [row]).map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Encodes a hook's result for the Accept header: `{ body, contentType }` and strings/bytes are sent as they
 * are; host tensors (a map of them, or one) like ONNX outputs; anything else as JSON, JSON Lines (a list:
 * one line per item) or CSV (a list of numbers or of rows).
 */
export function encodeValue(value: unknown, accept: string | undefined): InvocationResponse {
  if (typeof value === 'string' || Buffer.isBuffer(value))
    return { body: value, contentType: concreteType(accept) };
  if (value instanceof Uint8Array) return { body: Buffer.from(value), contentType: concreteType(accept) };
  if (typeof value === 'object' && value !== null && 'body' in value) {
    const { body, contentType } = value as { body: unknown; contentType?: unknown };
    if (typeof body === 'string' || body instanceof Uint8Array) {
      return {
        body: typeof body === 'string' ? body : Buffer.from(body),
        contentType: typeof contentType === 'string' ? contentType : concreteType(accept),
      };
    }
  }
  if (isHostTensor(value) || isNamedTensors(value)) {
    const outputs = isHostTensor(value) ? { output: value } : value;
    const encoding = chooseEncoding(accept);
    return { body: encoding.encode(outputRows(outputs)), contentType: encoding.type };
  }
  const type = negotiate(accept ?? 'application/json', VALUE_TYPES);
  return { body: encodePlain(value, type), contentType: type };
}
