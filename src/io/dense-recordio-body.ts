import { markFinite } from './finite-mark.js';
import type { RecordBatch } from './records.js';
import { RECORDIO_LENGTH_MASK as LENGTH_MASK, RECORDIO_MAGIC as MAGIC } from './recordio.js';

const VALUES_KEY = [0x76, 0x61, 0x6c, 0x75, 0x65, 0x73]; // "values"
/** float32 exponent bits: all set is Infinity or NaN. */
const EXPONENT = 0x7f800000;

/**
 * Checks that a Record map entry spanning `buf[p, end)` is `"values" -> Value{float32_tensor{values
 * packed}}` with nothing else, and returns where the float bytes start (they run to `end`), or -1.
 */
export function denseFloatsIn(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] !== 0x0a || buf[p + 1] !== 6) return -1;
  for (let i = 0; i < 6; i++) if (buf[p + 2 + i] !== VALUES_KEY[i]) return -1;
  p += 8;
  // Value (field 2), then Float32Tensor (Value field 2), then values (field 1): each tag + length
  // must cover exactly the rest of the entry.
  for (let level = 0; level < 3; level++) {
    if (buf[p++] !== (level < 2 ? 0x12 : 0x0a)) return -1;
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      if (p >= end || shift > 21) return -1;
      byte = buf[p++]!;
      length |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (p + length !== end) return -1;
  }
  return (end - p) % 4 === 0 ? p : -1;
}

/**
 * Where one plain dense Record's floats are (`DenseRecord.read`): features and, when present, label.
 * One object reused for every record of a body.
 */
export class DenseRecord {
  featuresAt = -1;
  features = 0;
  labelAt = -1;
  labels = 0;

  /**
   * Reads the Record payload `buf[start, end)`: true when it is a plain dense float32 record (one
   * `values` feature tensor, at most one `values` label tensor, packed, plus any of uid, metadata and
   * configuration), false for anything else (sparse, float64, int32, other keys, unknown fields).
   */
  read(buf: Uint8Array, start: number, end: number): boolean {
    this.featuresAt = -1;
    this.features = 0;
    this.labelAt = -1;
    this.labels = 0;
    let p = start;
    while (p < end) {
      const tag = buf[p++]!;
      if ((tag & 7) !== 2) return false;
      // All fields of Record are length-delimited; lengths are varints (< 2^28 here).
      let length = 0;
      let shift = 0;
      let byte: number;
      do {
        if (p >= end || shift > 21) return false;
        byte = buf[p++]!;
        length |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      const fieldEnd = p + length;
      if (fieldEnd > end) return false;
      if (tag === 0x0a || tag === 0x12) {
        const at = denseFloatsIn(buf, p, fieldEnd);
        if (at < 0) return false;
        const count = (fieldEnd - at) / 4;
        if (tag === 0x0a) {
          if (this.featuresAt >= 0) return false;
          this.featuresAt = at;
          this.features = count;
        } else {
          if (this.labelAt >= 0) return false;
          this.labelAt = at;
          this.labels = count;
        }
      } else if (tag !== 0x1a && tag !== 0x22 && tag !== 0x2a) {
        return false;
      }
      p = fieldEnd;
    }
    return this.featuresAt >= 0;
  }
}

/**
 * A whole RecordIO-protobuf request body in one pass, or undefined: every record unsplit, padded and
 * a plain dense float32 Record (`DenseRecord`) of `featureDim` features (or the first record's count),
 * all with the first record's label width. The feature bytes are copied straight into one array from
 * `allocate`, which with `markIfFinite` is marked finite (`finite-mark.ts`) when no value is Infinity or
 * NaN (only for a caller that hands the values to the checks unchanged). Anything else
 * returns undefined, and the general decoder reads the body (and words its errors). Little-endian only.
 */
export function parseDenseRecordIOBody(
  body: Buffer,
  featureDim: number | undefined,
  allocate: (length: number) => Float32Array,
  markIfFinite = false,
): RecordBatch | undefined {
  const end = body.length;
  const record = new DenseRecord();
  // First pass: the framing, and the record count.
  let rows = 0;
  for (let at = 0; at < end; ) {
    if (at + 8 > end || readU32(body, at) !== MAGIC) return undefined;
    const lrecord = readU32(body, at + 4);
    if (lrecord >>> 29 !== 0) return undefined;
    at += 8 + (((lrecord & LENGTH_MASK) + 3) & ~3);
    if (at > end) return undefined;
    rows++;
  }
  if (rows === 0 || !record.read(body, 8, 8 + (readU32(body, 4) & LENGTH_MASK))) return undefined;
  const dim = featureDim ?? record.features;
  if (!Number.isInteger(dim) || dim < 1) return undefined;
  const labelDim = record.labels;
  const values = allocate(rows * dim);
  const labels = labelDim > 0 ? new Float32Array(rows * labelDim) : undefined;
  // Words, not floats: the bytes are copied as they are (a float32 read and write may change a NaN's bits).
  const out = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const outBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const base = body.byteOffset;
  const words = new Uint32Array(body.buffer, 0, body.buffer.byteLength >>> 2);
  const labelView = labels ? new DataView(body.buffer, base, end) : undefined;
  let special = 0;
  let row = 0;
  for (let at = 0; at < end; row++) {
    const length = readU32(body, at + 4) & LENGTH_MASK;
    if (row > 0 && !record.read(body, at + 8, at + 8 + length)) return undefined;
    if (record.features !== dim || record.labels !== labelDim) return undefined;
    const from = record.featuresAt;
    const o = row * dim;
    if (((base + from) & 3) === 0) {
      const w = (base + from) >>> 2;
      for (let i = 0; i < dim; i++) {
        const word = words[w + i]!;
        if ((word & EXPONENT) === EXPONENT) special = 1;
        out[o + i] = word;
      }
    } else {
      for (let i = 0; i < dim * 4; i++) outBytes[o * 4 + i] = body[from + i]!;
      for (let i = 0; i < dim; i++) if ((out[o + i]! & EXPONENT) === EXPONENT) special = 1;
    }
    if (labels && labelView) {
      // As the general decoder reads labels (`readFloatLE`): float by float.
      for (let i = 0; i < labelDim; i++)
        labels[row * labelDim + i] = labelView.getFloat32(record.labelAt + i * 4, true);
    }
    at += 8 + ((length + 3) & ~3);
  }
  if (markIfFinite && !special) markFinite(values);
  return labels ? { rows, dim, values, labels, labelDim } : { rows, dim, values };
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
