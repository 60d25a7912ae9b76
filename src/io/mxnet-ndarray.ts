import { InputError } from '../util/errors.js';

/** One array of an MXNet NDArray list file. */
export interface NDArray {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** An MXNet NDArray list (`mx.nd.save`): arrays, with names when saved from a dict. */
export interface NDArrayList {
  readonly arrays: readonly NDArray[];
  /** Empty for an unnamed list; otherwise one name per array. */
  readonly names: readonly string[];
}

const LIST_MAGIC = 0x112n;
const V2_MAGIC = 0xf993fac9;
const V1_MAGIC = 0xf993fac8;
const TYPE_FLOAT32 = 0;
const TYPE_FLOAT64 = 1;
const CPU_DEVICE = 1;

/**
 * Encodes arrays in MXNet's NDArray list format, V2 dense layout, as `mx.nd.save` writes it
 * (the format of SageMaker's `model_algo-1`).
 */
export function encodeNDArrayList(list: NDArrayList): Buffer {
  if (list.names.length && list.names.length !== list.arrays.length) {
    throw new Error('encodeNDArrayList: names must be empty or one per array');
  }
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeBigUInt64LE(LIST_MAGIC, 0);
  header.writeBigUInt64LE(0n, 8);
  header.writeBigUInt64LE(BigInt(list.arrays.length), 16);
  parts.push(header);
  for (const array of list.arrays) {
    const count = array.shape.reduce((a, b) => a * b, 1);
    if (count !== array.data.length) {
      throw new Error(
        `encodeNDArrayList: shape ${array.shape.join('x')} does not hold ${array.data.length} values`,
      );
    }
    const head = Buffer.alloc(12 + 8 * array.shape.length + 12);
    let at = head.writeUInt32LE(V2_MAGIC, 0);
    at = head.writeInt32LE(0, at);
    at = head.writeInt32LE(array.shape.length, at);
    for (const dim of array.shape) at = head.writeBigInt64LE(BigInt(dim), at);
    at = head.writeInt32LE(CPU_DEVICE, at);
    at = head.writeInt32LE(0, at);
    head.writeInt32LE(array.data instanceof Float64Array ? TYPE_FLOAT64 : TYPE_FLOAT32, at);
    parts.push(head, Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength));
  }
  const names = Buffer.alloc(8);
  names.writeBigUInt64LE(BigInt(list.names.length), 0);
  parts.push(names);
  for (const name of list.names) {
    const bytes = Buffer.from(name, 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length), 0);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

class Reader {
  at = 0;
  constructor(
    readonly bytes: Buffer,
    readonly what: string,
  ) {}
  need(n: number): void {
    if (this.at + n > this.bytes.length) {
      throw new InputError(
        `${this.what}: truncated MXNet NDArray file (needed ${n} bytes at offset ${this.at})`,
      );
    }
  }
  u32(): number {
    this.need(4);
    const v = this.bytes.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.bytes.readInt32LE(this.at);
    this.at += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.bytes.readBigUInt64LE(this.at);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${this.what}: value ${v} out of range`);
    return Number(v);
  }
  i64(): number {
    this.need(8);
    const v = Number(this.bytes.readBigInt64LE(this.at));
    this.at += 8;
    return v;
  }
  take(n: number): Buffer {
    this.need(n);
    const slice = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return slice;
  }
}

function readArray(reader: Reader): NDArray {
  const magic = reader.u32();
  let shape: number[];
  if (magic === V2_MAGIC || magic === V1_MAGIC) {
    if (magic === V2_MAGIC) {
      const storage = reader.i32();
      if (storage !== 0)
        throw new InputError(`${reader.what}: sparse NDArray storage (type ${storage}) is not supported`);
    }
    const ndim = reader.i32();
    if (ndim < 0 || ndim > 32) throw new InputError(`${reader.what}: bad NDArray rank ${ndim}`);
    shape = Array.from({ length: ndim }, () => reader.i64());
  } else {
    // Legacy layout: the first u32 is ndim, dims are u32.
    const ndim = magic;
    if (ndim > 32)
      throw new InputError(`${reader.what}: not an MXNet NDArray file (bad magic 0x${magic.toString(16)})`);
    shape = Array.from({ length: ndim }, () => reader.u32());
  }
  if (shape.length === 0) return { shape, data: new Float32Array(0) };
  reader.i32(); // dev_type
  reader.i32(); // dev_id
  const typeFlag = reader.i32();
  const count = shape.reduce((a, b) => a * b, 1);
  if (typeFlag === TYPE_FLOAT32) {
    const raw = reader.take(count * 4);
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(raw);
    return { shape, data };
  }
  if (typeFlag === TYPE_FLOAT64) {
    const raw = reader.take(count * 8);
    const data = new Float64Array(count);
    Buffer.from(data.buffer).set(raw);
    return { shape, data };
  }
  throw new InputError(
    `${reader.what}: NDArray type flag ${typeFlag} is not supported (float32 or float64 only)`,
  );
}

/**
 * Decodes an MXNet NDArray list file: V2 and V1 array headers and the legacy layout.
 * @param what names the file in error messages.
 */
export function decodeNDArrayList(bytes: Buffer, what = 'NDArray file'): NDArrayList {
  const reader = new Reader(bytes, what);
  reader.need(24);
  if (bytes.readBigUInt64LE(0) !== LIST_MAGIC) {
    throw new InputError(`${what}: not an MXNet NDArray list (expected magic 0x112)`);
  }
  reader.at = 16;
  const count = reader.u64();
  const arrays = Array.from({ length: count }, () => readArray(reader));
  const nameCount = reader.at < bytes.length ? reader.u64() : 0;
  const names = Array.from({ length: nameCount }, () => reader.take(reader.u64()).toString('utf8'));
  if (names.length && names.length !== arrays.length) {
    throw new InputError(`${what}: ${names.length} names for ${arrays.length} arrays`);
  }
  return { arrays, names };
}
