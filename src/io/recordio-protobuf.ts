import os from 'node:os';
import protobuf from 'protobufjs';
import { InputError } from '../util/errors.js';
import { BatchBuilder, streamBatches } from './batch-builder.js';
import { DenseRecord, parseDenseRecordIOBody } from './dense-recordio-body.js';
import { type RecordIOHandler, RecordIOParser, encodeRecordIO, splitRecordIO } from './recordio.js';
import type { RecordBatch } from './records.js';

/** The MIME type of RecordIO-framed `aialgs.data.Record` protobuf messages. */
export const RECORDIO_PROTOBUF = 'application/x-recordio-protobuf';

const tensor = (type: string) => ({
  fields: {
    values: { rule: 'repeated', type, id: 1, options: { packed: true } },
    keys: { rule: 'repeated', type: 'uint64', id: 2, options: { packed: true } },
    shape: { rule: 'repeated', type: 'uint64', id: 3, options: { packed: true } },
  },
});

/** SageMaker's `aialgs.data` schema (proto2) as a protobufjs JSON descriptor. */
export const AIALGS_DATA_SCHEMA = {
  nested: {
    aialgs: {
      nested: {
        data: {
          nested: {
            Float32Tensor: tensor('float'),
            Float64Tensor: tensor('double'),
            Int32Tensor: tensor('int32'),
            Bytes: {
              fields: {
                value: { rule: 'repeated', type: 'bytes', id: 1 },
                content_type: { type: 'string', id: 2 },
              },
            },
            Value: {
              oneofs: { value: { oneof: ['float32_tensor', 'float64_tensor', 'int32_tensor', 'bytes'] } },
              fields: {
                float32_tensor: { type: 'Float32Tensor', id: 2 },
                float64_tensor: { type: 'Float64Tensor', id: 3 },
                int32_tensor: { type: 'Int32Tensor', id: 7 },
                bytes: { type: 'Bytes', id: 9 },
              },
            },
            Record: {
              fields: {
                features: { keyType: 'string', type: 'Value', id: 1 },
                label: { keyType: 'string', type: 'Value', id: 2 },
                uid: { type: 'string', id: 3 },
                metadata: { type: 'string', id: 4 },
                configuration: { type: 'string', id: 5 },
              },
            },
          },
        },
      },
    },
  },
};

/** The protobufjs type of `aialgs.data.Record`. */
export const RecordType: protobuf.Type =
  protobuf.Root.fromJSON(AIALGS_DATA_SCHEMA).lookupType('aialgs.data.Record');

/** One tensor of a Record: dense when `keys` is empty, else sparse with `shape`. */
export interface Tensor {
  readonly type: 'float32' | 'float64' | 'int32';
  readonly values: Float32Array | Float64Array | Int32Array;
  readonly keys: readonly number[];
  readonly shape: readonly number[];
}

/** A decoded `aialgs.data.Record` (tensors only; `Bytes` values are reported as an error). */
export interface DecodedRecord {
  readonly features: Readonly<Record<string, Tensor>>;
  readonly label: Readonly<Record<string, Tensor>>;
  readonly uid?: string;
}

interface RawTensor {
  values?: number[];
  keys?: (number | { toNumber(): number })[];
  shape?: (number | { toNumber(): number })[];
}
interface RawValue {
  float32_tensor?: RawTensor;
  float64_tensor?: RawTensor;
  int32_tensor?: RawTensor;
  bytes?: unknown;
}
interface RawRecord {
  features?: Record<string, RawValue>;
  label?: Record<string, RawValue>;
  uid?: string;
}

const toNumber = (value: number | { toNumber(): number }) =>
  typeof value === 'number' ? value : value.toNumber();

function toTensor(value: RawValue, where: string): Tensor {
  const raw = value.float32_tensor ?? value.float64_tensor ?? value.int32_tensor;
  if (!raw) {
    throw new InputError(
      `${where} holds ${value.bytes ? 'a Bytes value' : 'no value'}; expected a Float32, Float64 or Int32 tensor`,
    );
  }
  const type = value.float32_tensor ? 'float32' : value.float64_tensor ? 'float64' : 'int32';
  const ArrayType = type === 'float32' ? Float32Array : type === 'float64' ? Float64Array : Int32Array;
  return {
    type,
    values: ArrayType.from(raw.values ?? []),
    keys: (raw.keys ?? []).map(toNumber),
    shape: (raw.shape ?? []).map(toNumber),
  };
}

function toTensors(map: Record<string, RawValue> | undefined, where: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [key, value] of Object.entries(map ?? {})) out[key] = toTensor(value, `${where} '${key}'`);
  return out;
}

/**
 * Decodes one Record payload (the bytes inside a RecordIO record) with protobufjs. Accepts packed
 * and non-packed encodings.
 * @param where names the record in errors, e.g. `train/part-0.pbr record 3`
 */
export function decodeRecord(payload: Uint8Array, where = 'record'): DecodedRecord {
  let raw: RawRecord;
  try {
    raw = RecordType.toObject(RecordType.decode(payload), { longs: Number }) as RawRecord;
  } catch (error) {
    throw new InputError(
      `${where} is not an aialgs.data.Record protobuf message (${(error as Error).message}). Check the channel's ContentType.`,
    );
  }
  return {
    features: toTensors(raw.features, `${where}: feature`),
    label: toTensors(raw.label, `${where}: label`),
    ...(raw.uid ? { uid: raw.uid } : {}),
  };
}

/** Tensor contents for `encodeRecord`: a dense vector, or sparse `keys` + `shape`. */
export interface TensorInput {
  readonly values: ArrayLike<number>;
  readonly type?: 'float32' | 'float64' | 'int32';
  readonly keys?: readonly number[];
  readonly shape?: readonly number[];
}

function rawTensor(input: TensorInput): RawValue {
  const tensor: RawTensor = { values: Array.from(input.values) };
  if (input.keys?.length) tensor.keys = [...input.keys];
  if (input.shape?.length) tensor.shape = [...input.shape];
  const type = input.type ?? 'float32';
  return type === 'float32'
    ? { float32_tensor: tensor }
    : type === 'float64'
      ? { float64_tensor: tensor }
      : { int32_tensor: tensor };
}

/**
 * Encodes one Record payload (not framed) with protobufjs.
 * @example encodeRecord({ features: { values: { values: [1.5, 16, 14, 23] } } })
 */
export function encodeRecord(record: {
  features?: Readonly<Record<string, TensorInput>>;
  label?: Readonly<Record<string, TensorInput>>;
}): Buffer {
  const raw: RawRecord = {};
  if (record.features) {
    raw.features = Object.fromEntries(Object.entries(record.features).map(([k, t]) => [k, rawTensor(t)]));
  }
  if (record.label) {
    raw.label = Object.fromEntries(Object.entries(record.label).map(([k, t]) => [k, rawTensor(t)]));
  }
  const bytes = RecordType.encode(RecordType.fromObject(raw)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Encodes a batch as RecordIO-protobuf, one framed Record per row with dense float32 `values`
 * features (and `values` labels when the batch has labels), as the SageMaker SDK's
 * `write_numpy_to_dense_tensor` does. For tests, local mode and benchmarks.
 */
export function encodeDenseRecords(batch: RecordBatch): Buffer {
  const framed: Buffer[] = [];
  const labelDim = batch.labelDim ?? 0;
  for (let row = 0; row < batch.rows; row++) {
    const features = batch.values.subarray(row * batch.dim, (row + 1) * batch.dim);
    const label =
      batch.labels && labelDim
        ? { values: { values: batch.labels.subarray(row * labelDim, (row + 1) * labelDim) } }
        : undefined;
    framed.push(encodeRecordIO(encodeRecord({ features: { values: { values: features } }, label })));
  }
  return Buffer.concat(framed);
}

/**
 * Encodes predictions as RecordIO-protobuf responses, the way SageMaker's built-in algorithms answer:
 * one Record per row with no features and `label = {name: float32[width]}` per column.
 * @param columns field name -> rows x width values (width = length / rows)
 * @example encodeLabelRecords(2, { closest_cluster: new Float32Array([0, 1]) })
 */
export function encodeLabelRecords(rows: number, columns: Readonly<Record<string, Float32Array>>): Buffer {
  // Written byte by byte (the bytes protobufjs gives for `encodeRecord({ label })`, framed by
  // `encodeRecordIO`), without a message object per row.
  const names = Object.keys(columns);
  const keys = names.map((name) => Buffer.from(name, 'utf8'));
  const widths = names.map((name) => columns[name]!.length / rows);
  // Each label entry: 0x12 len { 0x0a len key, 0x12 len Value { 0x12 len Float32Tensor { 0x0a len floats } } }.
  const tensorLengths = widths.map((width) => (width > 0 ? 1 + varintSize(width * 4) + width * 4 : 0));
  const valueLengths = tensorLengths.map((length) => 1 + varintSize(length) + length);
  const entryLengths = keys.map(
    (key, i) => 1 + varintSize(key.length) + key.length + 1 + varintSize(valueLengths[i]!) + valueLengths[i]!,
  );
  let payloadLength = 0;
  for (const length of entryLengths) payloadLength += 1 + varintSize(length) + length;
  const framedLength = 8 + ((payloadLength + 3) & ~3);
  const out = Buffer.alloc(rows * framedLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  for (let row = 0; row < rows; row++) {
    const start = at + 8;
    let p = start;
    for (let i = 0; i < names.length; i++) {
      const key = keys[i]!;
      const width = widths[i]!;
      out[p++] = 0x12;
      p = writeVarint(out, p, entryLengths[i]!);
      out[p++] = 0x0a;
      p = writeVarint(out, p, key.length);
      for (let b = 0; b < key.length; b++) out[p++] = key[b]!;
      out[p++] = 0x12;
      p = writeVarint(out, p, valueLengths[i]!);
      out[p++] = 0x12;
      p = writeVarint(out, p, tensorLengths[i]!);
      if (width > 0) {
        out[p++] = 0x0a;
        p = writeVarint(out, p, width * 4);
        const column = columns[names[i]!]!;
        for (let v = row * width; v < (row + 1) * width; v++) {
          view.setFloat32(p, column[v]!, true);
          p += 4;
        }
      }
    }
    if (containsMagic(out, start, p)) {
      // A float that spells the RecordIO magic at an aligned offset: the record is split (rare).
      const framed = encodeRecordIO(Buffer.from(out.subarray(start, p)));
      return Buffer.concat([out.subarray(0, at), framed, encodeLabelRecordsFrom(row + 1, rows, columns)]);
    }
    out.writeUInt32LE(0xced7230a, at);
    out.writeUInt32LE(payloadLength, at + 4);
    at += framedLength;
  }
  return out;
}

/** Rows `from` to `rows` of `encodeLabelRecords` (after a split record). */
function encodeLabelRecordsFrom(
  from: number,
  rows: number,
  columns: Readonly<Record<string, Float32Array>>,
): Buffer {
  if (from >= rows) return Buffer.alloc(0);
  const rest: Record<string, Float32Array> = {};
  for (const [name, column] of Object.entries(columns)) {
    const width = column.length / rows;
    rest[name] = column.subarray(from * width, rows * width);
  }
  return encodeLabelRecords(rows - from, rest);
}

function containsMagic(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i + 4 <= end; i += 4) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x23 && bytes[i + 2] === 0xd7 && bytes[i + 3] === 0xce)
      return true;
  }
  return false;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * Decodes Record payloads into dense rows of a BatchBuilder. Dense float32 packed records (what the
 * SageMaker SDK writes) take a hand-rolled path that copies the floats in one call; anything else
 * (sparse, float64, int32, non-packed, other keys) goes through protobufjs.
 */
export class RecordRowDecoder {
  private readonly record = new DenseRecord();

  constructor(
    private readonly file: string,
    private readonly builder: BatchBuilder,
  ) {}

  /** Decodes one record payload (1-based `index` for messages) into the next row. */
  decode(payload: Buffer, index: number): void {
    this.decodeRange(payload, 0, payload.length, index);
  }

  /** Decodes the record payload `buf[start, end)` into the next row. */
  decodeRange(buf: Buffer, start: number, end: number, index: number): void {
    if (!(LITTLE_ENDIAN && this.decodeFast(buf, start, end))) {
      this.decodeGeneral(buf.subarray(start, end), index);
    }
    this.builder.commitRow();
  }

  /** Returns false (having written nothing visible) when the record is not plain dense float32. */
  private decodeFast(buf: Buffer, start: number, end: number): boolean {
    const builder = this.builder;
    const record = this.record;
    if (!record.read(buf, start, end) || record.features !== builder.dim) return false;
    const { featuresAt, labelAt, labels: labelLength } = record;
    if (builder.labelDim === -1) builder.setLabelDim(labelAt >= 0 ? labelLength : 0);
    if (labelAt >= 0 ? labelLength !== builder.labelDim : builder.labelDim > 0) return false;
    // A plain Uint8Array view: Buffer#subarray goes through the species constructor.
    const floats = new Uint8Array(buf.buffer, buf.byteOffset + featuresAt, builder.dim * 4);
    builder.valueBytes.set(floats, builder.rowOffset() * 4);
    if (labelAt >= 0 && builder.labels) {
      const labels = builder.labels;
      const base = builder.rows * builder.labelDim;
      for (let i = 0; i < labelLength; i++) labels[base + i] = buf.readFloatLE(labelAt + i * 4);
    }
    return true;
  }

  private decodeGeneral(payload: Buffer, index: number): void {
    const builder = this.builder;
    const where = `${this.file}: record ${index}`;
    const record = decodeRecord(payload, where);
    const features = pickTensor(record.features, where, 'features');
    if (!features) {
      throw new InputError(
        `${where} has no features: expected an aialgs.data.Record with a 'values' feature tensor. Check the channel's ContentType.`,
      );
    }
    writeDense(features, builder.values, builder.rowOffset(), builder.dim, `${where}: features`);
    const label = pickTensor(record.label, where, 'label');
    const labelWidth = label ? denseWidth(label) : 0;
    if (builder.labelDim === -1) builder.setLabelDim(labelWidth);
    if (builder.labels) {
      const base = builder.rows * builder.labelDim;
      if (!label) {
        builder.labels.fill(Number.NaN, base, base + builder.labelDim);
      } else {
        writeDense(label, builder.labels, base, builder.labelDim, `${where}: label`);
      }
    }
  }
}

/** The `values` entry of a feature/label map, or its only entry. */
function pickTensor(map: Readonly<Record<string, Tensor>>, where: string, what: string): Tensor | undefined {
  if (map['values']) return map['values'];
  const keys = Object.keys(map);
  if (keys.length === 0) return undefined;
  if (keys.length === 1) return map[keys[0]!];
  throw new InputError(`${where} has ${what} ${keys.join(', ')}; expected one named 'values'`);
}

function denseWidth(tensor: Tensor): number {
  if (!tensor.keys.length) return tensor.values.length;
  return tensor.shape.length ? tensor.shape.reduce((a, b) => a * b, 1) : 0;
}

/** Writes a dense or sparse tensor as `dim` dense values at `out[offset]`. */
function writeDense(tensor: Tensor, out: Float32Array, offset: number, dim: number, where: string): void {
  if (!tensor.keys.length) {
    if (tensor.values.length !== dim) {
      throw new InputError(
        `${where} have ${tensor.values.length} values, expected ${dim} (feature_dim). Every record must have exactly feature_dim values.`,
      );
    }
    for (let i = 0; i < dim; i++) out[offset + i] = tensor.values[i]!;
    return;
  }
  const width = denseWidth(tensor);
  if (tensor.shape.length && width !== dim) {
    throw new InputError(`${where} are sparse with shape [${tensor.shape.join(', ')}], expected [${dim}]`);
  }
  if (tensor.keys.length !== tensor.values.length) {
    throw new InputError(`${where} have ${tensor.keys.length} keys but ${tensor.values.length} values`);
  }
  out.fill(0, offset, offset + dim);
  for (let i = 0; i < tensor.keys.length; i++) {
    const key = tensor.keys[i]!;
    if (!(key >= 0 && key < dim)) {
      throw new InputError(`${where} have key ${key}, outside [0, ${dim}) (feature_dim ${dim})`);
    }
    out[offset + key] = tensor.values[i]!;
  }
}

/** Options for reading RecordIO-protobuf into batches. */
export interface RecordIOProtobufOptions {
  /** Named in error messages. */
  readonly file: string;
  readonly featureDim: number;
  readonly batchSize: number;
}

/**
 * A push parser for RecordIO-protobuf streams: `write` chunks, `finish` at the end of each file;
 * completed rows land in the shared BatchBuilder (so batches may span files). Keeps no reference to
 * a chunk after `write` returns, so callers may reuse their read buffer.
 */
export class RecordIOProtobufParser implements RecordIOHandler {
  private readonly framing: RecordIOParser;
  private readonly rows: RecordRowDecoder;
  private parts: Buffer[] = [];

  constructor(file: string, builder: BatchBuilder) {
    this.framing = new RecordIOParser(file, this);
    this.rows = new RecordRowDecoder(file, builder);
  }

  write(chunk: Buffer): void {
    this.framing.write(chunk);
  }

  finish(): void {
    this.framing.finish();
  }

  /** @internal RecordIOHandler: a whole record inside one chunk. */
  record(buf: Buffer, start: number, end: number, index: number): void {
    this.rows.decodeRange(buf, start, end, index);
  }

  /** @internal RecordIOHandler: part of a record that crosses chunks or was split (copied: chunks may be reused). */
  data(part: Buffer): void {
    this.parts.push(Buffer.from(part));
  }

  /** @internal RecordIOHandler */
  end(index: number): void {
    const payload = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.rows.decode(payload, index);
  }
}

/**
 * Streams RecordIO-protobuf (a Node Readable or async iterable of Buffers) as dense batches of
 * `batchSize` rows (the last may be smaller). Rows of another width fail naming file and record.
 */
export async function* readRecordIOProtobuf(
  source: AsyncIterable<Buffer>,
  options: RecordIOProtobufOptions,
): AsyncGenerator<RecordBatch> {
  const builder = new BatchBuilder({
    batchSize: options.batchSize,
    dim: options.featureDim,
    labelDim: 'auto',
  });
  yield* streamBatches(source, new RecordIOProtobufParser(options.file, builder), builder);
}

const freshFloats = (length: number) => new Float32Array(length);

/**
 * Decodes a whole RecordIO-protobuf body (a serving request) into one batch: in one pass when every
 * record is plain dense float32 (`dense-recordio-body.ts`), else record by record.
 * @param featureDim the model's width; when omitted, the first record's width is used.
 */
export function parseRecordIOProtobufBody(
  body: Buffer,
  options: {
    featureDim?: number;
    file?: string;
    /** Where the values array comes from (a recycler of request buffers; need not be zeroed). */
    allocate?: (length: number) => Float32Array;
    /**
     * Mark the values finite (`finite-mark.ts`) when the one-pass decoder saw that they are, so the
     * checks after it skip their scans: only for a caller that does not change them before those checks.
     */
    markFinite?: boolean;
  } = {},
): RecordBatch {
  const file = options.file ?? 'request body';
  if (LITTLE_ENDIAN) {
    const allocate = options.allocate ?? freshFloats;
    const dense = parseDenseRecordIOBody(body, options.featureDim, allocate, options.markFinite);
    if (dense) return dense;
  }
  const records = splitRecordIO(body, file);
  if (records.length === 0) throw new InputError(`${file} holds no records`);
  let dim = options.featureDim;
  if (dim === undefined) {
    const features = pickTensor(decodeRecord(records[0]!, `${file}: record 1`).features, file, 'features');
    dim = features ? denseWidth(features) : 0;
    if (!dim) throw new InputError(`${file}: record 1 has no features`);
  }
  // One row more than the records: the batch is emitted by flushLast, which allocates no next one.
  const builder = new BatchBuilder({
    batchSize: records.length + 1,
    dim,
    labelDim: 'auto',
    ...(options.allocate ? { allocate: options.allocate } : {}),
  });
  const decoder = new RecordRowDecoder(file, builder);
  for (let i = 0; i < records.length; i++) decoder.decode(records[i]!, i + 1);
  builder.flushLast();
  return builder.take()[0]!;
}
