import { InputError } from '../util/errors.js';
import type { RecordBatch } from './records.js';

/** The MIME type of NumPy `.npy` bodies. */
export const NPY = 'application/x-npy';

/** Element types smkit reads and writes in NPY files (all little-endian). */
export type NpyDtype = 'float32' | 'float64' | 'int32' | 'int64';

/** A C-order NumPy array. */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i8': 'int64',
};
const SIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8 };
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Decodes an NPY file (format versions 1, 2 and 3): little-endian float32/float64/int32/int64,
 * C order, 1-D or 2-D. Object arrays (pickles) and Fortran order are refused with what to do instead.
 * The header is parsed as text, never evaluated.
 */
export function decodeNpy(body: Buffer, where = 'request body'): NpyArray {
  if (body.length < 10 || !body.subarray(0, 6).equals(MAGIC)) {
    throw new InputError(
      `${where} is not an NPY file (no \\x93NUMPY magic); send the bytes numpy.save writes`,
    );
  }
  const major = body[6]!;
  if (major < 1 || major > 3)
    throw new InputError(`${where}: NPY format version ${major} is not supported (1, 2, 3 are)`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? body.readUInt16LE(8) : body.readUInt32LE(8);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > body.length) throw new InputError(`${where}: the NPY header is truncated`);
  const header = body.toString(major === 3 ? 'utf8' : 'latin1', 8 + lengthBytes, dataStart);

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new InputError(
      `${where}: the NPY header is malformed (${JSON.stringify(header.trim().slice(0, 120))})`,
    );
  }
  if (descr.includes('O')) {
    throw new InputError(
      `${where}: NPY object arrays (dtype ${descr}) need pickle, which is refused; save a numeric array (e.g. arr.astype('float32'))`,
    );
  }
  const dtype = DESCR[descr.replace(/^[=|]/, '<')];
  if (!dtype) {
    throw new InputError(
      `${where}: NPY dtype '${descr}' is not supported; use little-endian float32, float64, int32 or int64 (e.g. arr.astype('<f4'))`,
    );
  }
  if (fortran === 'True') {
    throw new InputError(
      `${where}: Fortran-order NPY arrays are not supported; save np.ascontiguousarray(arr)`,
    );
  }
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      if (!/^\d+L?$/.test(part)) throw new InputError(`${where}: NPY shape (${shapeText}) is malformed`);
      return Number.parseInt(part, 10);
    });
  if (shape.length < 1 || shape.length > 2) {
    throw new InputError(`${where}: NPY arrays must be 1-D or 2-D (got shape (${shape.join(', ')}))`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * SIZE[dtype];
  if (body.length - dataStart !== bytes) {
    throw new InputError(
      `${where}: NPY data holds ${body.length - dataStart} bytes, expected ${bytes} for shape (${shape.join(', ')}) ${descr}`,
    );
  }
  const data =
    dtype === 'float32'
      ? new Float32Array(count)
      : dtype === 'float64'
        ? new Float64Array(count)
        : dtype === 'int32'
          ? new Int32Array(count)
          : new BigInt64Array(count);
  // Copy through bytes: the data offset within the Buffer's pool need not be aligned.
  new Uint8Array(data.buffer).set(body.subarray(dataStart));
  return { dtype, shape, data };
}

/** Encodes a C-order array as NPY format 1.0, byte-identical to `numpy.save`. */
export function encodeNpy(array: NpyArray): Buffer {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new Error(
      `encodeNpy: shape (${array.shape.join(', ')}) does not match ${array.data.length} values`,
    );
  }
  const descr = Object.keys(DESCR).find((key) => DESCR[key] === array.dtype)!;
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  if (array.shape.length) header += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(array.shape[0]).length);
  const padding = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + header.length + 1) % ARRAY_ALIGN);
  header += `${' '.repeat(padding)}\n`;
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix);
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/**
 * Decodes an NPY request body into a batch: a 2-D array is rows x features, a 1-D array one row.
 * @param featureDim the model's width; a different width is a 400-worthy InputError.
 */
export function parseNpyBody(
  body: Buffer,
  options: { featureDim?: number; file?: string } = {},
): RecordBatch {
  const where = options.file ?? 'request body';
  const array = decodeNpy(body, where);
  const [rows, dim] = array.shape.length === 1 ? [1, array.shape[0]!] : [array.shape[0]!, array.shape[1]!];
  if (options.featureDim !== undefined && dim !== options.featureDim) {
    throw new InputError(
      `${where}: NPY rows have ${dim} values, expected ${options.featureDim} (feature_dim)`,
    );
  }
  const values =
    array.data instanceof Float32Array
      ? array.data
      : array.data instanceof BigInt64Array
        ? Float32Array.from(array.data, Number)
        : Float32Array.from(array.data);
  return { rows, dim, values };
}
