/** The RecordIO magic number (dmlc-core / MXNet), little-endian on disk. */
export const RECORDIO_MAGIC = 0xced7230a;
const MAX_LENGTH = (1 << 29) - 1;

function header(cflag: number, length: number): Buffer {
  if (length > MAX_LENGTH) {
    throw new RangeError(`a RecordIO record holds at most ${MAX_LENGTH} bytes (got ${length})`);
  }
  const buffer = Buffer.alloc(8);
  buffer.writeUInt32LE(RECORDIO_MAGIC, 0);
  buffer.writeUInt32LE(((cflag << 29) | length) >>> 0, 4);
  return buffer;
}

/**
 * Wraps one payload in a RecordIO record as dmlc-core's RecordIOWriter does (and as SageMaker's
 * `RecordWrapperType: RecordIO` wraps each S3 object): where the magic appears at a 4-byte aligned offset
 * the record is split (cflag 1 start, 2 middle, 3 end) and the magic dropped; the reader re-inserts it.
 */
export function frameRecord(payload: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let offset = 0; offset + 4 <= payload.length; offset += 4) {
    if (payload.readUInt32LE(offset) !== RECORDIO_MAGIC) continue;
    parts.push(header(start === 0 ? 1 : 2, offset - start), payload.subarray(start, offset));
    start = offset + 4;
  }
  const rest = payload.length - start;
  parts.push(header(start === 0 ? 0 : 3, rest), payload.subarray(start));
  const padding = (4 - (rest % 4)) % 4;
  if (padding) parts.push(Buffer.alloc(padding));
  return parts;
}
