/**
 * Worker-thread side of `csv-parts.ts`: parses the parts of CSV files it is sent, one at a time, and
 * posts their rows back in blocks (the arrays are transferred, not copied).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { InputError, errorMessage } from '../util/errors.js';
import { BatchBuilder } from './batch-builder.js';
import { CsvParser } from './csv.js';
import type { CsvPart, CsvPartsSetup, PartMessage, WorkerMessage } from './csv-parts.js';

const NL = 10;
const CHUNK_BYTES = 1 << 20;
const setup = workerData as CsvPartsSetup;
const port = parentPort!;
const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
/** Block arrays the main thread has copied and sent back, by length. */
const pool = new Map<number, Float32Array[]>();
const allocate = (length: number) => pool.get(length)?.pop() ?? new Float32Array(length);
/** One builder for every part: a part ends with a flush, so the next starts on an empty block. */
const builder = new BatchBuilder({
  batchSize: setup.blockRows,
  dim: setup.featureDim,
  labelDim: setup.labelSize,
  allocate,
});

/** Newlines in `file` before byte `end` (the line number base of a part; errors only). */
function newlinesBefore(file: string, end: number): number {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let count = 0;
    for (let at = 0; at < end; ) {
      const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, end - at), at);
      if (read === 0) break;
      for (let i = chunk.indexOf(NL); i >= 0 && i < read; i = chunk.indexOf(NL, i + 1)) count++;
      at += read;
    }
    return count;
  } finally {
    closeSync(fd);
  }
}

/** The offset of the first line that starts at or after `start` (a line starts after a newline). */
async function firstLineStart(handle: FileHandle, start: number): Promise<number> {
  if (start === 0) return 0;
  for (let at = start - 1; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, at);
    if (bytesRead === 0) return at;
    const newline = buffer.subarray(0, bytesRead).indexOf(NL);
    if (newline >= 0) return at + newline + 1;
    at += bytesRead;
  }
}

function post(message: PartMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Parses the lines that start in [part.start, part.end), posting rows in blocks; returns the bytes read. */
async function parsePart(part: CsvPart): Promise<number> {
  const flush = () => {
    for (const block of builder.take()) {
      const transfer = [block.values.buffer as ArrayBuffer];
      if (block.labels) transfer.push(block.labels.buffer as ArrayBuffer);
      post(
        { kind: 'rows', index: part.index, rows: block.rows, values: block.values, labels: block.labels },
        transfer,
      );
    }
  };
  const handle = await open(part.file, 'r');
  try {
    const begin = await firstLineStart(handle, part.start);
    if (begin >= part.end) return 0;
    const parser = new CsvParser(
      part.where,
      builder,
      setup.labelSize,
      begin > 0 ? { linesBefore: () => newlinesBefore(part.file, begin) } : undefined,
    );
    let at = begin;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      if (at + bytesRead >= part.end) {
        // The line holding byte end - 1 is this part's last: it ends at the first newline from there.
        const newline = chunk.indexOf(NL, Math.max(0, part.end - 1 - at));
        if (newline >= 0) {
          parser.write(chunk.subarray(0, newline + 1));
          at += newline + 1;
          break;
        }
      }
      parser.write(chunk);
      at += bytesRead;
      flush();
    }
    parser.finish();
    builder.flush();
    flush();
    return at - begin;
  } finally {
    await handle.close();
  }
}

port.on('message', (message: WorkerMessage) => {
  if (message.kind === 'recycle') {
    for (const buffer of message.buffers) {
      const array = new Float32Array(buffer);
      const list = pool.get(array.length);
      if (list) list.push(array);
      else pool.set(array.length, [array]);
    }
    return;
  }
  const { part } = message;
  parsePart(part).then(
    (bytes) => post({ kind: 'done', index: part.index, bytes }),
    (error: unknown) => {
      // The rows before the error are not the next part's.
      builder.flush();
      builder.take();
      post({
        kind: 'error',
        index: part.index,
        message: errorMessage(error),
        input: error instanceof InputError,
      });
    },
  );
});
