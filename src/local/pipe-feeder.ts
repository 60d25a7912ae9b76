import { execFile } from 'node:child_process';
import { constants, createReadStream, open as openFd } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzipSync } from 'node:zlib';
import { channelFifo, type SageMakerPaths } from '../contract/index.js';
import { startsWithGzipMagic } from '../io/gzip-magic.js';
import { encodeRecordIO } from '../io/recordio.js';
import { InputError, errorMessage } from '../util/errors.js';
import type { PipeChannel } from './job-tree.js';

const run = promisify(execFile);
const openRaw = promisify(openFd);

/** Creates a named pipe (Node has no mkfifo of its own); an existing FIFO is kept. */
export async function mkfifo(file: string): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isFIFO()) return;
  await run('mkfifo', ['-m', '0600', file]);
}

/**
 * Opens a FIFO for writing once a reader has opened it; `undefined` when `signal` aborts first.
 * Polls with O_NONBLOCK (ENXIO while no reader) so no libuv thread blocks in open(2).
 */
async function openWhenRead(fifo: string, signal: AbortSignal): Promise<number | undefined> {
  while (!signal.aborted) {
    try {
      // A raw fd (not a FileHandle, which would close it again when collected): the socket owns it.
      return await openRaw(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    await sleep(20, undefined, { signal }).catch(() => undefined);
  }
  return undefined;
}

function isReaderGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
}

async function writeAll(socket: net.Socket, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        socket.once('drain', resolve);
        socket.once('error', reject);
      });
    }
  }
}

/**
 * SageMaker gunzips every object of a `CompressionType: Gzip` channel and fails the job on one that is
 * not gzip; so does the feeder, naming the file, before writing any of its bytes.
 */
async function checkGzip(file: string, channel: string): Promise<void> {
  if (!(await startsWithGzipMagic(file))) {
    throw new InputError(
      `channel '${channel}' declares compression=Gzip (CompressionType Gzip) but ${file} is not gzip data ` +
        '(it does not start with 1f 8b): SageMaker fails a job whose Pipe-mode objects do not decompress; ' +
        'gzip the files or drop compression=Gzip',
    );
  }
}

function gunzipFailure(file: string, channel: string, error: unknown): InputError {
  return new InputError(
    `channel '${channel}': cannot decompress ${file} (${errorMessage(error)}); the file is corrupt or truncated`,
  );
}

async function feedFile(socket: net.Socket, file: string, pipe: PipeChannel): Promise<void> {
  const gzip = pipe.channel.compression === 'Gzip';
  if (gzip) await checkGzip(file, pipe.channel.name);
  if (pipe.channel.wrapper === 'RecordIO') {
    // A record's length comes first, so the (decompressed) object is read whole.
    const data = await readFile(file);
    let payload = data;
    try {
      if (gzip) payload = gunzipSync(data);
    } catch (error) {
      throw gunzipFailure(file, pipe.channel.name, error);
    }
    await writeAll(socket, [encodeRecordIO(payload)]);
    return;
  }
  const source = createReadStream(file);
  if (!gzip) {
    await pipeline(source, socket, { end: false });
    return;
  }
  const gunzip = createGunzip();
  let inflateError: unknown;
  gunzip.on('error', (error) => {
    inflateError ??= error;
  });
  try {
    await pipeline(source, gunzip, socket, { end: false });
  } catch (error) {
    if (inflateError) throw gunzipFailure(file, pipe.channel.name, inflateError);
    throw error;
  }
}

/** What a feeder did, for the summary. */
export interface FeedReport {
  readonly channel: string;
  readonly epochs: number;
  readonly bytes: number;
}

/**
 * Feeds one Pipe-mode channel of one host as SageMaker does: FIFO `CH_0` holds every file of the
 * channel (gunzipped when Gzip, each wrapped in a RecordIO record when RecordIO), then EOF; then `CH_1`
 * appears for the next epoch, and so on until `signal` aborts (the job ended). A reader that closes a
 * FIFO early ends that epoch. Each FIFO is removed after its epoch.
 */
export async function feedPipeChannel(
  paths: SageMakerPaths,
  pipe: PipeChannel,
  signal: AbortSignal,
): Promise<FeedReport> {
  let epochs = 0;
  let bytes = 0;
  for (let epoch = 0; !signal.aborted; epoch++) {
    const fifo = channelFifo(paths, pipe.channel.name, epoch);
    await mkfifo(fifo);
    try {
      const fd = await openWhenRead(fifo, signal);
      if (fd === undefined) break;
      const socket = new net.Socket({ fd, readable: false, writable: true });
      const abort = () => socket.destroy();
      signal.addEventListener('abort', abort, { once: true });
      socket.on('error', () => undefined);
      try {
        for (const file of pipe.files) await feedFile(socket, file, pipe);
        await new Promise<void>((resolve) => socket.end(resolve));
      } catch (error) {
        if (error instanceof InputError || (!isReaderGone(error) && !signal.aborted)) throw error;
      } finally {
        bytes += socket.bytesWritten;
        socket.destroy();
        signal.removeEventListener('abort', abort);
      }
      epochs++;
    } finally {
      await unlink(fifo).catch(() => undefined);
    }
  }
  return { channel: pipe.channel.name, epochs, bytes };
}
