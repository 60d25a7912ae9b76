import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { Channels, OpenChannelOptions } from '../../algorithms/types.js';
import {
  type ChannelConfig,
  ENV,
  type InputDataConfig,
  type SageMakerPaths,
  type TrainingSettings,
  channelDir,
  channelFifo,
} from '../contract/index.js';
import { BatchBuilder, type ChunkParser } from '../io/batch-builder.js';
import { parseMediaType } from '../io/media-type.js';
import { CsvParser } from '../io/csv.js';
import { type CsvFile, type CsvPart, planCsvParts, readCsvParts } from '../io/csv-parts.js';
import { RECORDIO_MAGIC, type RecordIOHandler, RecordIOParser } from '../io/recordio.js';
import { RECORDIO_PROTOBUF, RecordIOProtobufParser, RecordRowDecoder } from '../io/recordio-protobuf.js';
import type { RecordBatch } from '../io/records.js';
import { InputError, SmkitError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** How a channel's bytes are to be parsed, from its ContentType. */
export type ChannelFormat =
  | { readonly kind: 'csv'; readonly labelSize: number }
  | { readonly kind: 'recordio-protobuf' };

/**
 * Parses a channel's ContentType: `text/csv` (with an optional `label_size=N` parameter) or
 * `application/x-recordio-protobuf`; absent means RecordIO-protobuf, as the SageMaker SDK's
 * `record_set()` sends none. Anything else is an InputError naming the channel and the supported types.
 * @example parseChannelContentType('train', 'text/csv;label_size=1') // { kind: 'csv', labelSize: 1 }
 */
export function parseChannelContentType(channel: string, contentType: string | undefined): ChannelFormat {
  if (contentType === undefined || contentType.trim() === '') return { kind: 'recordio-protobuf' };
  const { type, params } = parseMediaType(contentType);
  if (type === RECORDIO_PROTOBUF) return { kind: 'recordio-protobuf' };
  if (type === 'text/csv') {
    const value = params.get('label_size');
    if (value !== undefined && !/^\d+$/.test(value)) {
      throw new InputError(
        `channel '${channel}': ContentType '${contentType}' has label_size '${value}'; it must be an integer >= 0`,
      );
    }
    return { kind: 'csv', labelSize: value === undefined ? 0 : Number(value) };
  }
  throw new InputError(
    `channel '${channel}': ContentType '${contentType}' is not supported. Use text/csv (optionally ` +
      `text/csv;label_size=N) or application/x-recordio-protobuf (also assumed when ContentType is absent).`,
  );
}

/** Counters of one opened channel stream, updated while it is read. */
export interface ChannelStats {
  /** Files (or FIFOs) opened so far. */
  files: number;
  /** Bytes read (after gzip decompression). */
  bytes: number;
  /** Rows yielded in batches. */
  rows: number;
}

/** A channel opened for one pass: batches of exactly `batchSize` rows, the last may be smaller. */
export interface ChannelStream extends AsyncIterable<RecordBatch> {
  /** Filled in while reading; `rows === 0` after the loop means the channel was empty. */
  readonly stats: ChannelStats;
}

/** The channels of a training job, with smkit's extras over the algorithms' `Channels` interface. */
export interface TrainingChannels extends Channels {
  open(name: string, options: OpenChannelOptions): ChannelStream;
  /** The files a File/FastFile-mode channel reads, in order (empty for Pipe mode). */
  files(name: string): Promise<string[]>;
  /** Parsed ContentType of a channel. */
  format(name: string): ChannelFormat;
  /** `FullyReplicated` or `ShardedByS3Key` (the platform already gave this host its shard). */
  distribution(name: string): ChannelConfig['S3DistributionType'];
}

/** What `createChannels` needs. */
export interface CreateChannelsOptions {
  readonly paths: SageMakerPaths;
  readonly inputDataConfig: Readonly<InputDataConfig>;
  readonly settings: Pick<TrainingSettings, 'pipeWaitSeconds'>;
  readonly log: Logger;
  /**
   * The job's stop signal (SIGTERM): ends a Pipe-mode wait for a FIFO at once. Reading itself is not
   * cut short; algorithms check the signal between batches.
   */
  readonly signal?: AbortSignal;
  /** How large File-mode CSV channels are parsed on worker threads (defaults: {@link PARALLEL_CSV}). */
  readonly parallelCsv?: ParallelCsvOptions;
}

/** How File-mode CSV channels are parsed on worker threads. */
export interface ParallelCsvOptions {
  /** Parsing threads; 1 parses on the calling thread. */
  readonly workers?: number;
  /** Bytes per part a thread parses at a time. */
  readonly partBytes?: number;
  /** Channels with fewer bytes in all are parsed on the calling thread (threads take time to start). */
  readonly minBytes?: number;
}

/**
 * The defaults: one thread per core, 8 MiB parts, from 32 MiB on. A training job's algorithm works
 * on the calling thread meanwhile (PCA's kernel, k-means' updates), so parsing is spread over the
 * cores that would otherwise sit idle while one parses.
 */
export const PARALLEL_CSV: Required<ParallelCsvOptions> = {
  workers: os.availableParallelism(),
  partBytes: 8 << 20,
  minBytes: 32 << 20,
};

const CHUNK_BYTES = 1 << 20;

/**
 * Opens the channels of a training job as streams of record batches, following the container
 * contract: File and FastFile mode read every file under `input/data/<channel>` (recursively, sorted
 * by path, hidden files and manifests skipped); Pipe mode reads the FIFO `input/data/<channel>_<epoch>`
 * to EOF after waiting for it to appear. Gzip data (`.gz` files, `CompressionType: Gzip` pipes) is
 * recognised by its magic bytes and decompressed. `RecordWrapperType: RecordIO` unwraps each record
 * before parsing its payload by ContentType. ContentTypes are validated here, so a bad one fails
 * before training starts.
 */
export function createChannels(options: CreateChannelsOptions): TrainingChannels {
  const { paths, inputDataConfig, settings, log, signal } = options;
  const parallel = { ...PARALLEL_CSV, ...options.parallelCsv };
  const names = Object.keys(inputDataConfig).sort();
  const formats = new Map(
    names.map((name) => [name, parseChannelContentType(name, inputDataConfig[name]!.ContentType)]),
  );

  const config = (name: string): ChannelConfig => {
    const found = inputDataConfig[name];
    if (!found) {
      throw new InputError(
        `no channel '${name}' in inputdataconfig.json (configured: ${names.join(', ') || 'none'}); add it to the job's InputDataConfig`,
      );
    }
    return found;
  };

  const files = async (name: string): Promise<string[]> => {
    const mode = config(name).TrainingInputMode;
    if (mode === 'Pipe') return [];
    return listChannelFiles(channelDir(paths, name), name);
  };

  const open = (name: string, openOptions: OpenChannelOptions): ChannelStream => {
    const channel = config(name);
    const format = formats.get(name)!;
    const stats: ChannelStats = { files: 0, bytes: 0, rows: 0 };
    const epoch = openOptions.epoch ?? 0;
    async function* batches(): AsyncGenerator<RecordBatch> {
      const builder = new BatchBuilder({
        batchSize: openOptions.batchSize,
        dim: openOptions.featureDim,
        labelDim: format.kind === 'csv' ? format.labelSize : 'auto',
      });
      const sources =
        channel.TrainingInputMode === 'Pipe'
          ? [await waitForFifo(channelFifo(paths, name, epoch), name, settings.pipeWaitSeconds, signal, log)]
          : await files(name);
      log.info(
        {
          channel: name,
          mode: channel.TrainingInputMode,
          distribution: channel.S3DistributionType,
          epoch,
          files: sources.map((file) => path.relative(paths.inputData, file)),
        },
        channel.S3DistributionType === 'ShardedByS3Key'
          ? `reading channel ${name}: this host's shard of ${sources.length} file(s)`
          : `reading channel ${name}: ${sources.length} file(s)`,
      );
      const parts =
        channel.TrainingInputMode !== 'Pipe' &&
        format.kind === 'csv' &&
        channel.RecordWrapperType !== 'RecordIO'
          ? await planParallelCsv(sources, parallel)
          : undefined;
      if (parts && format.kind === 'csv') {
        const counted = new Set<string>();
        const rows = readCsvParts(parts, {
          featureDim: openOptions.featureDim,
          labelSize: format.labelSize,
          batchSize: openOptions.batchSize,
          workers: parallel.workers,
          onPart: (part, bytes) => {
            if (!counted.has(part.file)) stats.files += 1;
            counted.add(part.file);
            stats.bytes += bytes;
          },
        });
        for await (const batch of rows) {
          stats.rows += batch.rows;
          yield batch;
        }
      } else {
        for (const file of sources) {
          stats.files += 1;
          const parser = createParser(file, format, channel.RecordWrapperType === 'RecordIO', builder);
          for await (const chunk of readBytes(file)) {
            stats.bytes += chunk.length;
            parser.write(chunk);
            if (builder.hasReady) {
              for (const batch of builder.take()) {
                stats.rows += batch.rows;
                yield batch;
              }
            }
          }
          parser.finish();
        }
        builder.flush();
        for (const batch of builder.take()) {
          stats.rows += batch.rows;
          yield batch;
        }
      }
      log.debug({ channel: name, epoch, parallel: parts !== undefined, ...stats }, `channel ${name} read`);
    }
    return { stats, [Symbol.asyncIterator]: () => batches() };
  };

  return {
    names,
    has: (name) => Object.hasOwn(inputDataConfig, name),
    config,
    open,
    files,
    format: (name) => {
      config(name);
      return formats.get(name)!;
    },
    distribution: (name) => config(name).S3DistributionType,
  };
}

/** Lists the data files of a channel directory: recursive, sorted by path, hidden files and manifests skipped. */
export async function listChannelFiles(dir: string, channel = path.basename(dir)): Promise<string[]> {
  try {
    await stat(dir);
  } catch {
    throw new InputError(
      `channel '${channel}': ${dir} does not exist. In File mode SageMaker downloads the channel there; check the channel's S3 URI and name.`,
    );
  }
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.') || isManifest(entry.name)) continue;
      const full = path.join(current, entry.name);
      const kind = entry.isSymbolicLink() ? await stat(full) : entry;
      if (kind.isDirectory()) await walk(full);
      else if (kind.isFile()) found.push(full);
    }
  };
  await walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function isManifest(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'manifest' || lower.endsWith('.manifest') || lower === '_success';
}

/** Polls for a Pipe-mode FIFO until it appears, `waitSeconds` pass, or the job is stopped. */
async function waitForFifo(
  fifo: string,
  channel: string,
  waitSeconds: number,
  signal: AbortSignal | undefined,
  log: Logger,
): Promise<string> {
  const deadline = Date.now() + waitSeconds * 1000;
  let told = false;
  const stopped = () =>
    new SmkitError(`Pipe-mode channel '${channel}': stopped while waiting for the FIFO ${fifo}`);
  let delay = 20;
  for (;;) {
    if (signal?.aborted) throw stopped();
    try {
      await stat(fifo);
      return fifo;
    } catch {
      if (!told) {
        told = true;
        log.info({ channel, fifo, waitSeconds }, `waiting for the Pipe-mode FIFO ${fifo}`);
      }
      if (Date.now() >= deadline) {
        throw new InputError(
          `Pipe-mode channel '${channel}': the FIFO ${fifo} did not appear within ${waitSeconds} s. ` +
            `Check that the channel is configured with TrainingInputMode Pipe, or wait longer by setting ${ENV.pipeWaitSeconds}.`,
        );
      }
      try {
        await sleep(Math.min(delay, Math.max(deadline - Date.now(), 1)), undefined, { signal });
      } catch {
        throw stopped();
      }
      delay = Math.min(delay * 2, 500);
    }
  }
}

/**
 * The bytes of a file or FIFO, gunzipped when they start with the gzip magic (`.gz` files, Pipe mode
 * with `CompressionType: Gzip`, or compressed objects under any name: neither CSV nor RecordIO can
 * start with 1f 8b, and a stream the platform already decompressed still reads). Concatenated gzip
 * members (one per S3 object) are all decompressed. Plain input is read into one reused buffer (fresh
 * 1 MiB chunks cost page faults on every read), so a chunk is valid only until the consumer asks for
 * the next one: parsers copy what they keep. Gzip errors name the file.
 */
async function* readBytes(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0;
    let bytesRead = 1;
    // A FIFO may deliver fewer than 2 bytes in its first read.
    while (filled < 2 && bytesRead > 0) {
      ({ bytesRead } = await handle.read(buffer, filled, CHUNK_BYTES - filled, null));
      filled += bytesRead;
    }
    if (filled >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) {
      yield* gunzipRest(file, handle, Buffer.from(buffer.subarray(0, filled)));
      return;
    }
    while (filled > 0) {
      yield buffer.subarray(0, filled);
      ({ bytesRead: filled } = await handle.read(buffer, 0, CHUNK_BYTES, null));
    }
  } finally {
    await handle.close();
  }
}

async function* gunzipRest(file: string, handle: FileHandle, first: Buffer): AsyncGenerator<Buffer> {
  async function* compressed(): AsyncGenerator<Buffer> {
    yield first;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      yield chunk.subarray(0, bytesRead);
    }
  }
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  const piping = pipeline(Readable.from(compressed()), gunzip).catch(() => undefined);
  try {
    yield* gunzip;
  } catch (error) {
    throw new InputError(
      `${file}: cannot decompress gzip data (${errorMessage(error)}); the file is corrupt or truncated.`,
    );
  } finally {
    gunzip.destroy();
    await piping;
  }
}

function createParser(
  file: string,
  format: ChannelFormat,
  wrapped: boolean,
  builder: BatchBuilder,
): ChunkParser {
  const inner = (where: string): ChunkParser =>
    format.kind === 'csv'
      ? new BinarySniffer(where, new CsvParser(where, builder, format.labelSize))
      : new WrappedProtobufParser(where, builder);
  if (!wrapped) return format.kind === 'csv' ? inner(file) : new RecordIOProtobufParser(file, builder);
  return new RecordIOUnwrapper(file, (index) => inner(`${file} (RecordIO-wrapped object ${index})`));
}

/** How much of a CSV object is looked at to tell text from binary data. */
const SNIFF_BYTES = 512;

/**
 * Guards a CSV parser against data that is not text: RecordIO framing or binary bytes (NUL, control
 * characters) in the first bytes of an object mean the channel's ContentType is wrong, which a
 * "'\x00\x01' is not a number" message would not tell.
 */
class BinarySniffer implements ChunkParser {
  private head: Buffer[] | undefined = [];
  private headLength = 0;

  constructor(
    private readonly where: string,
    private readonly csv: ChunkParser,
  ) {}

  write(chunk: Buffer): void {
    if (!this.head) {
      this.csv.write(chunk);
      return;
    }
    this.head.push(Buffer.from(chunk));
    this.headLength += chunk.length;
    if (this.headLength >= SNIFF_BYTES) this.release();
  }

  finish(): void {
    if (this.head) this.release();
    this.csv.finish();
  }

  private release(): void {
    const head = Buffer.concat(this.head!);
    this.head = undefined;
    this.sniff(head.subarray(0, SNIFF_BYTES));
    this.csv.write(head);
  }

  private sniff(head: Buffer): void {
    checkCsvText(this.where, head);
  }
}

/** Throws unless the first bytes of an object (`head`) look like CSV text, naming what they look like. */
function checkCsvText(where: string, head: Buffer): void {
  if (head.length >= 4 && head.readUInt32LE(0) === RECORDIO_MAGIC) {
    throw new InputError(
      `${where} starts with the RecordIO magic (0a 23 d7 ce), so it is RecordIO, not CSV: ` +
        `check the channel's ContentType; for RecordIO-protobuf data use ${RECORDIO_PROTOBUF}`,
    );
  }
  const binary = head.findIndex(
    (byte) => byte === 0 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d),
  );
  if (binary >= 0) {
    throw new InputError(
      `${where} looks binary, not CSV text (byte 0x${head[binary]!.toString(16).padStart(2, '0')} at offset ${binary}): ` +
        `check the channel's ContentType (text/csv says comma-separated numbers); for RecordIO-protobuf data use ${RECORDIO_PROTOBUF}`,
    );
  }
}

/**
 * The parts a File-mode CSV channel's files are parsed in on worker threads, or `undefined` when the
 * calling thread parses them: one worker or fewer, less than `minBytes` in all, or a file that is
 * gzip or does not look like CSV text (the sequential reader decompresses it or reports it).
 */
async function planParallelCsv(
  files: readonly string[],
  parallel: Required<ParallelCsvOptions>,
): Promise<CsvPart[] | undefined> {
  if (parallel.workers < 2) return undefined;
  const sized: CsvFile[] = [];
  let total = 0;
  for (const file of files) {
    const { size } = await stat(file);
    sized.push({ file, where: file, size });
    total += size;
  }
  if (total < parallel.minBytes) return undefined;
  for (const { file, size } of sized) {
    if (size === 0) continue;
    const handle = await open(file, 'r');
    try {
      const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
      await handle.read(head, 0, head.length, 0);
      if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return undefined;
      checkCsvText(file, head);
    } catch (error) {
      if (error instanceof InputError) return undefined;
      throw error;
    } finally {
      await handle.close();
    }
  }
  return planCsvParts(sized, parallel.partBytes);
}

/** `RecordWrapperType: RecordIO`: each record's payload is one S3 object, parsed by a fresh inner parser. */
class RecordIOUnwrapper implements ChunkParser, RecordIOHandler {
  private readonly outer: RecordIOParser;
  private inner: ChunkParser | undefined;

  constructor(
    file: string,
    private readonly createInner: (index: number) => ChunkParser,
  ) {
    this.outer = new RecordIOParser(file, this);
  }

  write(chunk: Buffer): void {
    this.outer.write(chunk);
  }

  finish(): void {
    this.outer.finish();
  }

  data(part: Buffer): void {
    this.inner ??= this.createInner(this.outer.count + 1);
    this.inner.write(part);
  }

  end(index: number): void {
    (this.inner ?? this.createInner(index)).finish();
    this.inner = undefined;
  }
}

/**
 * A wrapped RecordIO-protobuf object is either a framed `.pbr` file or one bare Record message;
 * the first four bytes tell which (a Record cannot start with the RecordIO magic).
 */
class WrappedProtobufParser implements ChunkParser {
  private head: Buffer[] = [];
  private headLength = 0;
  private framed: RecordIOProtobufParser | undefined;
  private bare: Buffer[] | undefined;

  constructor(
    private readonly where: string,
    private readonly builder: BatchBuilder,
  ) {}

  write(chunk: Buffer): void {
    if (this.framed) {
      this.framed.write(chunk);
    } else if (this.bare) {
      this.bare.push(Buffer.from(chunk));
    } else {
      this.head.push(Buffer.from(chunk));
      this.headLength += chunk.length;
      if (this.headLength >= 4) this.decide();
    }
  }

  finish(): void {
    if (!this.framed && !this.bare) this.decide();
    if (this.framed) {
      this.framed.finish();
      return;
    }
    const payload = Buffer.concat(this.bare!);
    if (payload.length) new RecordRowDecoder(this.where, this.builder).decode(payload, 1);
  }

  private decide(): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    if (head.length >= 4 && head.readUInt32LE(0) === RECORDIO_MAGIC) {
      this.framed = new RecordIOProtobufParser(this.where, this.builder);
      this.framed.write(head);
    } else {
      this.bare = [head];
    }
  }
}
