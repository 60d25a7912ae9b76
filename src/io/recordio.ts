import { InputError } from '../util/errors.js';

/**
 * RecordIO framing as dmlc-core (MXNet, SageMaker) writes it: each record is a u32 LE magic
 * 0xCED7230A, a u32 LE `lrecord` (length = low 29 bits, continuation flag = high 3 bits), the payload
 * and zero padding to a multiple of 4 bytes. A payload holding the magic at an aligned offset is split
 * there into parts (cflag 1 start, 2 middle, 3 end) and rejoined with the magic on reading.
 */
export const RECORDIO_MAGIC = 0xced7230a;

const MAGIC_BYTES = Buffer.from([0x0a, 0x23, 0xd7, 0xce]);
/** The low 29 bits of a frame's length word: the payload's length (the top 3 say which part it is). */
export const RECORDIO_LENGTH_MASK = (1 << 29) - 1;
const MAX_PART = RECORDIO_LENGTH_MASK;

function header(cflag: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeUInt32LE(RECORDIO_MAGIC, 0);
  bytes.writeUInt32LE(((cflag << 29) | length) >>> 0, 4);
  return bytes;
}

function isMagicAt(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x0a && bytes[at + 1] === 0x23 && bytes[at + 2] === 0xd7 && bytes[at + 3] === 0xce;
}

/**
 * Frames one payload as a RecordIO record, splitting it where the magic appears at a 4-byte aligned
 * offset exactly as dmlc-core's `RecordIOWriter::WriteRecord` does.
 * @example encodeRecordIO(Buffer.from('abc')) // 0a23d7ce 03000000 616263 00
 */
export function encodeRecordIO(payload: Uint8Array): Buffer {
  if (payload.length > MAX_PART) throw new Error(`RecordIO records hold at most ${MAX_PART} bytes`);
  const parts: Uint8Array[] = [];
  let start = 0;
  const lowerAlign = payload.length & ~3;
  for (let i = 0; i < lowerAlign; i += 4) {
    if (!isMagicAt(payload, i)) continue;
    parts.push(header(start === 0 ? 1 : 2, i - start), payload.subarray(start, i));
    start = i + 4;
  }
  parts.push(header(start === 0 ? 0 : 3, payload.length - start), payload.subarray(start));
  const pad = (4 - (payload.length % 4)) % 4;
  if (pad) parts.push(Buffer.alloc(pad));
  return Buffer.concat(parts);
}

/** Frames several payloads one after another (a `.rec`/`.pbr` file). */
export function encodeRecordIOs(payloads: Iterable<Uint8Array>): Buffer {
  const framed: Buffer[] = [];
  for (const payload of payloads) framed.push(encodeRecordIO(payload));
  return Buffer.concat(framed);
}

/** Receives the bytes of RecordIO records as they stream in. */
export interface RecordIOHandler {
  /** Payload bytes of the current record, in order (several calls per record are possible). */
  data(part: Buffer): void;
  /** The current record is complete. `index` is 1-based. */
  end(index: number): void;
  /**
   * Optional fast path: a whole unsplit record found inside one chunk, as `buf[start, end)`, instead
   * of `data` + `end` calls (saves a Buffer view per record).
   */
  record?(buf: Buffer, start: number, end: number, index: number): void;
}

enum State {
  Header = 0,
  Payload = 1,
  Padding = 2,
}

/**
 * An incremental RecordIO parser: feed it chunks of any size with `write`; it calls the handler with
 * payload bytes (subarrays of the chunks, not copies) and record ends. `finish` checks that the input
 * did not stop inside a record. Errors are InputErrors naming `file`, the record number and the offset.
 */
export class RecordIOParser {
  private state = State.Header;
  private readonly head = Buffer.alloc(8);
  private headFill = 0;
  private headStart = 0;
  private remaining = 0;
  private padding = 0;
  private cflag = 0;
  private inSplit = false;
  private offset = 0;
  private recordStart = 0;
  private partLength = 0;
  /** Records completed so far. */
  count = 0;

  constructor(
    private readonly file: string,
    private readonly handler: RecordIOHandler,
  ) {}

  /** Parses one more chunk of the stream. */
  write(chunk: Buffer): void {
    let at = 0;
    const length = chunk.length;
    while (at < length) {
      if (this.state === State.Header) {
        if (this.headFill === 0 && length - at >= 8) {
          if (this.handler.record && !this.inSplit && isMagicAt(chunk, at)) {
            const lrecord =
              (chunk[at + 4]! | (chunk[at + 5]! << 8) | (chunk[at + 6]! << 16) | (chunk[at + 7]! << 24)) >>>
              0;
            const payloadLength = lrecord & RECORDIO_LENGTH_MASK;
            const next = at + 8 + ((payloadLength + 3) & ~3);
            if (lrecord >>> 29 === 0 && next <= length) {
              this.recordStart = this.offset + at;
              this.count += 1;
              this.handler.record(chunk, at + 8, at + 8 + payloadLength, this.count);
              at = next;
              continue;
            }
          }
          this.readHeader(chunk, at, this.offset + at);
          at += 8;
        } else {
          if (this.headFill === 0) this.headStart = this.offset + at;
          const take = Math.min(8 - this.headFill, length - at);
          chunk.copy(this.head, this.headFill, at, at + take);
          this.headFill += take;
          at += take;
          if (this.headFill < 8) break;
          this.headFill = 0;
          this.readHeader(this.head, 0, this.headStart);
        }
        if (this.remaining === 0) this.afterPayload();
      } else if (this.state === State.Payload) {
        const take = Math.min(this.remaining, length - at);
        this.handler.data(chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.afterPayload();
      } else {
        const take = Math.min(this.padding, length - at);
        this.padding -= take;
        at += take;
        if (this.padding === 0) this.afterPadding();
      }
    }
    this.offset += length;
  }

  /** Ends the stream; throws when it stopped inside a record. */
  finish(): void {
    const record = this.count + 1;
    // Some writers omit the final padding; the payload itself is complete.
    if (this.state === State.Padding) this.afterPadding();
    if (this.state === State.Header && this.headFill === 0 && !this.inSplit) return;
    if (this.state === State.Header && this.headFill > 0) {
      throw new InputError(
        `${this.file}: record ${record} is truncated: the file ends ${this.headFill} bytes into an 8-byte header (at byte ${this.headStart}). The file is incomplete; upload it again.`,
      );
    }
    const detail =
      this.state === State.Header
        ? 'the file ends inside a split record (no end part)'
        : `expected ${this.partLength} payload bytes, got ${this.partLength - this.remaining}`;
    throw new InputError(
      `${this.file}: record ${record} is truncated: ${detail} (record starts at byte ${this.recordStart}). The file is incomplete; upload it again.`,
    );
  }

  private readHeader(bytes: Buffer, at: number, position: number): void {
    if (!this.inSplit) this.recordStart = position;
    const magic = bytes.readUInt32LE(at);
    const record = this.count + 1;
    if (magic !== RECORDIO_MAGIC) {
      throw new InputError(
        `${this.file}: record ${record}: bad RecordIO magic 0x${magic.toString(16).padStart(8, '0')} at byte ${position} (expected 0xced7230a). The file is not RecordIO (check the channel's ContentType) or is corrupt.`,
      );
    }
    const lrecord = bytes.readUInt32LE(at + 4);
    const cflag = lrecord >>> 29;
    if (cflag === 1 && this.inSplit) {
      throw new InputError(`${this.file}: record ${record}: a split record starts inside another one.`);
    }
    if ((cflag === 2 || cflag === 3) && !this.inSplit) {
      throw new InputError(
        `${this.file}: record ${record}: a continuation part (cflag ${cflag}) without a start part.`,
      );
    }
    if (cflag === 2 || cflag === 3) this.handler.data(MAGIC_BYTES);
    this.cflag = cflag;
    this.inSplit = cflag === 1 || cflag === 2;
    this.remaining = lrecord & RECORDIO_LENGTH_MASK;
    this.partLength = this.remaining;
    this.padding = (4 - (this.remaining % 4)) % 4;
    this.state = State.Payload;
  }

  private afterPayload(): void {
    if (this.padding) this.state = State.Padding;
    else this.afterPadding();
  }

  private afterPadding(): void {
    this.state = State.Header;
    if (this.cflag === 0 || this.cflag === 3) {
      this.count += 1;
      this.handler.end(this.count);
    }
  }
}

/**
 * Streams RecordIO payloads from chunks (a Node Readable or any async iterable of Buffers), one
 * Buffer per record, holding at most one record plus one chunk in memory.
 * @param file named in errors, e.g. `/opt/ml/input/data/train/part-0.pbr`
 */
export async function* readRecordIO(source: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  for await (const records of readRecordIOChunks(source, file)) yield* records;
}

/**
 * Like `readRecordIO` but yields the records completed by each input chunk together: fewer awaits
 * for callers that decode many small records.
 */
export async function* readRecordIOChunks(
  source: AsyncIterable<Buffer>,
  file: string,
): AsyncGenerator<Buffer[]> {
  const collector = new RecordCollector();
  const parser = new RecordIOParser(file, collector);
  for await (const chunk of source) {
    parser.write(chunk);
    if (collector.records.length) yield collector.take();
  }
  parser.finish();
}

/** Splits a whole RecordIO body (a request, a small file) into payloads. */
export function splitRecordIO(body: Buffer, file = 'request body'): Buffer[] {
  const collector = new RecordCollector();
  const parser = new RecordIOParser(file, collector);
  parser.write(body);
  parser.finish();
  return collector.take();
}

/** Gathers record parts into whole payloads (no copy for unsplit records). */
export class RecordCollector implements RecordIOHandler {
  records: Buffer[] = [];
  private parts: Buffer[] = [];

  data(part: Buffer): void {
    this.parts.push(part);
  }

  record(buf: Buffer, start: number, end: number): void {
    this.records.push(buf.subarray(start, end));
  }

  end(): void {
    const parts = this.parts;
    this.records.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    this.parts = [];
  }

  /** Returns and forgets the records completed so far. */
  take(): Buffer[] {
    const records = this.records;
    this.records = [];
    return records;
  }
}
