import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { BatchStrategy, SplitType } from '../contract/transform.js';
import { encodeRecordIO, readRecordIO } from '../io/recordio.js';
import { InputError } from '../util/errors.js';

/** A mini-batch cut from one input file. */
export interface CutBatch {
  /** 0-based position in the file's batches. */
  readonly index: number;
  /** 1-based number of its first record in the file. */
  readonly first: number;
  readonly count: number;
  /** What is sent: the records, each followed by `\n` for Line splits, framed for RecordIO splits. */
  readonly body: Buffer;
  /** The records as read (before any input filter), when the caller asked to keep them. */
  readonly originals?: readonly Buffer[];
  /**
   * Hands the body's memory back for a later batch, once it is sent and answered (optional: without
   * it the memory is collected). The body must not be used afterwards.
   */
  release(): void;
}

/** How `cutBatches` cuts a file. */
export interface CutOptions {
  readonly splitType: Exclude<SplitType, 'TFRecord'>;
  readonly strategy: BatchStrategy;
  /** Largest body in bytes; 0 = no limit (one batch per file). */
  readonly maxBytes: number;
  /** Turns each record into the record sent (InputFilter); records are copied when it is set. */
  readonly mapRecord?: (record: Buffer) => Buffer;
  /** Keep each batch's input records (`originals`), for JoinSource and OutputFilter. */
  readonly keepOriginals?: boolean;
  /** Called as the file is read, with the bytes read so far. */
  readonly onRead?: (bytes: number) => void;
}

const NEWLINE = Buffer.from('\n');
const CR = 0x0d;
const LF = 0x0a;
/** Bytes read from the file at a time (a line longer than this grows the buffer). */
const READ_BYTES = 1024 * 1024;

/**
 * Packs records into bodies within the payload limit, copying each record once into the batch's own
 * buffer (runs of records that are contiguous in the source are copied together).
 */
class BatchPacker {
  private body: Buffer | undefined;
  private pieces: Buffer[] = [];
  /** Bytes of the current batch, counted as records are added. */
  private size = 0;
  /** Bytes of the current batch already copied into its body. */
  private copied = 0;
  private count = 0;
  private first = 1;
  private records = 0;
  private index = 0;
  private originals: Buffer[] | undefined;
  // The pending run of source bytes not yet copied.
  private runSource: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;
  /** Batches completed since the last `take`. */
  private done: CutBatch[] = [];
  /** Released bodies of `maxBytes`, reused: a payload's memory is allocated once per batch in flight. */
  private readonly free: Buffer[] = [];

  constructor(
    private readonly options: CutOptions,
    private readonly file: string,
  ) {}

  /** Bytes a Line record adds beyond its own (the `\n`). */
  private get extra(): number {
    return this.options.splitType === 'Line' ? 1 : 0;
  }

  /**
   * Adds one record, `source[start, end)`. `followedByNewline`: `source[end]` is the `\n` to send after
   * it, so record and newline are copied as one run.
   */
  add(source: Buffer, start: number, end: number, followedByNewline = false, original?: Buffer): void {
    const bytes = end - start + this.extra;
    this.records++;
    const { maxBytes, strategy } = this.options;
    if (maxBytes > 0 && bytes > maxBytes) {
      throw new InputError(
        `${this.file}: record ${this.records} is ${bytes} bytes, over MaxPayloadInMB (${maxBytes} bytes); raise --max-payload or split the input (--split-type Line)`,
      );
    }
    if (this.count > 0 && (strategy === 'SingleRecord' || (maxBytes > 0 && this.size + bytes > maxBytes))) {
      this.flush();
    }
    if (this.count === 0 && maxBytes > 0) {
      this.body =
        strategy === 'SingleRecord'
          ? Buffer.allocUnsafe(bytes)
          : (this.free.pop() ?? Buffer.allocUnsafe(maxBytes));
    }
    if (this.extra && followedByNewline) {
      this.append(source, start, end + 1);
    } else {
      this.append(source, start, end);
      if (this.extra) this.append(NEWLINE, 0, 1);
    }
    if (this.options.keepOriginals) {
      this.originals ??= [];
      this.originals.push(original ?? source.subarray(start, end));
    }
    this.count++;
    this.size += bytes;
  }

  private append(source: Buffer, start: number, end: number): void {
    if (source === this.runSource && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.copyRun();
    this.runSource = source;
    this.runStart = start;
    this.runEnd = end;
  }

  /** Copies the pending run out of its source: before the source buffer is reused, and at a batch's end. */
  copyRun(): void {
    const source = this.runSource;
    if (!source) return;
    if (this.body) source.copy(this.body, this.copied, this.runStart, this.runEnd);
    else this.pieces.push(Buffer.from(source.subarray(this.runStart, this.runEnd)));
    this.copied += this.runEnd - this.runStart;
    this.runSource = undefined;
  }

  /** Ends the current batch, if it has records. */
  flush(): void {
    if (this.count === 0) return;
    this.copyRun();
    const storage = this.body;
    const body = storage ? storage.subarray(0, this.size) : Buffer.concat(this.pieces, this.size);
    const reusable = storage !== undefined && storage.length === this.options.maxBytes;
    const free = this.free;
    this.done.push({
      index: this.index++,
      first: this.first,
      count: this.count,
      body,
      ...(this.originals ? { originals: this.originals } : {}),
      release: reusable ? () => free.push(storage) : () => undefined,
    });
    this.first += this.count;
    this.count = 0;
    this.size = 0;
    this.copied = 0;
    this.body = undefined;
    this.pieces = [];
    this.originals = undefined;
  }

  /** The batches completed so far, handed over once. */
  take(): CutBatch[] {
    const done = this.done;
    this.done = [];
    return done;
  }
}

/**
 * Cuts one input file into mini-batches as batch transform does, streaming: one record per line (`\r\n`
 * endings and empty lines dropped, each record sent with `\n`), one per RecordIO record (split parts
 * kept together, sent framed), or the whole file (`None`); a batch never passes `maxBytes` and never spans
 * files. Holds one read buffer plus the batch being cut, so memory does not grow with the file. Records
 * are bytes: nothing is decoded.
 */
export async function* cutBatches(file: string, name: string, options: CutOptions): AsyncGenerator<CutBatch> {
  const packer = new BatchPacker(options, name);
  const { mapRecord } = options;
  // A record the input filter rewrites (or one kept for joining) must outlive the read buffer: copy it.
  const addCopy = (source: Buffer, start: number, end: number): void => {
    const record = Buffer.from(source.subarray(start, end));
    const sent = mapRecord ? mapRecord(record) : record;
    packer.add(sent, 0, sent.length, false, record);
  };
  const copying = mapRecord !== undefined || options.keepOriginals === true;
  if (options.splitType === 'None') {
    const size = (await stat(file)).size;
    if (options.maxBytes > 0 && size > options.maxBytes && !mapRecord) {
      throw new InputError(
        `${name}: record 1 is ${size} bytes, over MaxPayloadInMB (${options.maxBytes} bytes); raise --max-payload or split the input (--split-type Line)`,
      );
    }
    const handle = await open(file);
    try {
      const data = await handle.readFile();
      options.onRead?.(data.length);
      if (data.length) addCopy(data, 0, data.length);
    } finally {
      await handle.close();
    }
  } else if (options.splitType === 'RecordIO') {
    let read = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(file, { highWaterMark: READ_BYTES })) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    for await (const payload of readRecordIO(counted(), name)) {
      const framed = encodeRecordIO(payload);
      packer.add(framed, 0, framed.length);
      options.onRead?.(read);
      yield* packer.take();
    }
  } else {
    const handle = await open(file);
    try {
      let buffer = Buffer.allocUnsafe(READ_BYTES);
      let filled = 0;
      let read = 0;
      const line = (view: Buffer, start: number, end: number, newline: boolean): void => {
        let last = end;
        if (last > start && view[last - 1] === CR) last--;
        if (last === start) return;
        if (copying) addCopy(view, start, last);
        else packer.add(view, start, last, newline && last === end);
      };
      for (;;) {
        if (filled === buffer.length) {
          const grown = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(grown, 0, 0, filled);
          buffer = grown;
        }
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        read += bytesRead;
        const end = filled + bytesRead;
        const view = buffer.subarray(0, end);
        let start = 0;
        for (let at = view.indexOf(LF, filled); at >= 0; at = view.indexOf(LF, at + 1)) {
          line(view, start, at, true);
          start = at + 1;
        }
        // The read buffer is reused: nothing may still point into it.
        packer.copyRun();
        buffer.copy(buffer, 0, start, end);
        filled = end - start;
        options.onRead?.(read);
        yield* packer.take();
      }
      line(buffer.subarray(0, filled), 0, filled, false);
    } finally {
      await handle.close();
    }
  }
  packer.flush();
  yield* packer.take();
}
