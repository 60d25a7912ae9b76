import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, SmkitError } from '../util/errors.js';
import { BatchBuilder } from './batch-builder.js';
import type { RecordBatch } from './records.js';
import { bundleWorkerEntries } from './worker-bundle.js';

/**
 * Parses large headerless CSV files on several worker threads and yields their rows in file order, in
 * batches identical to a single parser's: the files are cut into parts of about `partBytes` (a line
 * belongs to the part its first byte is in), workers parse parts ahead of the consumer, and the rows
 * are re-batched here in order. Errors are those of a single parser (same file, line and column),
 * raised once every row before them has been yielded.
 */

/** One part of a file: the lines that start in bytes [start, end). */
export interface CsvPart {
  readonly index: number;
  readonly file: string;
  /** The file as named in errors. */
  readonly where: string;
  readonly start: number;
  readonly end: number;
}

/** What every worker is started with. */
export interface CsvPartsSetup {
  readonly featureDim: number;
  readonly labelSize: number;
  /** Rows per block a worker posts. */
  readonly blockRows: number;
}

/** Main thread to worker: a part to parse, or the buffers of blocks already copied, for reuse. */
export type WorkerMessage =
  | { readonly kind: 'part'; readonly part: CsvPart }
  | { readonly kind: 'recycle'; readonly buffers: readonly ArrayBuffer[] };

/** Worker to main thread. */
export type PartMessage =
  | {
      readonly kind: 'rows';
      readonly index: number;
      readonly rows: number;
      readonly values: Float32Array;
      readonly labels: Float32Array | undefined;
    }
  | { readonly kind: 'done'; readonly index: number; readonly bytes: number }
  | { readonly kind: 'error'; readonly index: number; readonly message: string; readonly input: boolean };

/** A file to split, with its size. */
export interface CsvFile {
  readonly file: string;
  readonly where: string;
  readonly size: number;
}

/** Cuts files into parts of about `partBytes` each (small files are one part). */
export function planCsvParts(files: readonly CsvFile[], partBytes: number): CsvPart[] {
  const parts: CsvPart[] = [];
  for (const { file, where, size } of files) {
    const count = Math.max(1, Math.round(size / partBytes));
    for (let i = 0; i < count; i++) {
      const start = Math.floor((size * i) / count);
      const end = Math.floor((size * (i + 1)) / count);
      parts.push({ index: parts.length, file, where, start, end });
    }
  }
  return parts;
}

/** Options of {@link readCsvParts}. */
export interface ReadCsvPartsOptions {
  readonly featureDim: number;
  readonly labelSize: number;
  readonly batchSize: number;
  /** Worker threads (at most one per part). */
  readonly workers: number;
  /** Called when every row of a part has been yielded, with the bytes it held. */
  readonly onPart?: (part: CsvPart, bytes: number) => void;
}

interface Block {
  readonly rows: number;
  readonly values: Float32Array;
  readonly labels: Float32Array | undefined;
  readonly from: Worker;
}

interface PartState {
  blocks: Block[];
  done: boolean;
  bytes: number;
  error: Error | undefined;
}

let bundled: Promise<string> | undefined;

/**
 * The worker module. From sources (tests, tsx) Node 20 worker threads get no TypeScript loader, so
 * it is bundled once per process ({@link bundleWorkerEntries}).
 */
function workerFile(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const worker = path.join(path.dirname(here), `csv-part-worker${path.extname(here)}`);
  if (!worker.endsWith('.ts')) return Promise.resolve(worker);
  bundled ??= (async () => {
    const outdir = await bundleWorkerEntries({ 'csv-part-worker': worker }, 'csv-parts');
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return path.join(outdir, 'csv-part-worker.mjs');
  })();
  return bundled;
}

/**
 * Yields the rows of `parts` (from {@link planCsvParts}) in order, in batches of exactly `batchSize`
 * rows but the last, parsed on `workers` threads. At most two parts per worker are parsed ahead of
 * the one being yielded, so memory stays bounded whatever the file size.
 */
export async function* readCsvParts(
  parts: readonly CsvPart[],
  options: ReadCsvPartsOptions,
): AsyncGenerator<RecordBatch> {
  const builder = new BatchBuilder({
    batchSize: options.batchSize,
    dim: options.featureDim,
    labelDim: options.labelSize,
  });
  const states: (PartState | undefined)[] = parts.map(() => ({
    blocks: [],
    done: false,
    bytes: 0,
    error: undefined,
  }));
  const ahead = Math.max(1, options.workers) * 2;
  let consuming = 0;
  let dispatched = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const idle: Worker[] = [];
  const dispatch = () => {
    while (idle.length && dispatched < parts.length && dispatched < consuming + ahead) {
      const message: WorkerMessage = { kind: 'part', part: parts[dispatched++]! };
      idle.pop()!.postMessage(message);
    }
  };
  const setup: CsvPartsSetup = {
    featureDim: options.featureDim,
    labelSize: options.labelSize,
    blockRows: Math.max(1, Math.min(options.batchSize, Math.floor(2 ** 20 / options.featureDim))),
  };
  const filename = await workerFile();
  const workers = Array.from({ length: Math.max(1, Math.min(options.workers, parts.length)) }, () => {
    // Not the parent's flags: `--input-type`, `--eval` or loaders make no sense in a worker thread.
    const worker = new Worker(filename, { workerData: setup, execArgv: [] });
    worker.on('message', (message: PartMessage) => {
      const state = states[message.index];
      if (!state) return;
      if (message.kind === 'rows') {
        state.blocks.push({
          rows: message.rows,
          values: message.values,
          labels: message.labels,
          from: worker,
        });
      } else if (message.kind === 'done') {
        state.done = true;
        state.bytes = message.bytes;
        idle.push(worker);
        dispatch();
      } else {
        state.error = message.input ? new InputError(message.message) : new SmkitError(message.message);
      }
      notify();
    });
    worker.on('error', (error) => {
      failure ??= new SmkitError(`a CSV parsing thread failed: ${error.message}`);
      notify();
    });
    worker.on('exit', (code) => {
      if (code !== 0) failure ??= new SmkitError(`a CSV parsing thread exited with code ${code}`);
      notify();
    });
    idle.push(worker);
    return worker;
  });
  try {
    dispatch();
    for (let i = 0; i < parts.length; i++) {
      consuming = i;
      dispatch();
      const state = states[i]!;
      for (;;) {
        const block = state.blocks.shift();
        if (block) {
          builder.appendRows(block.values, block.labels, block.rows);
          // Back to the worker that filled them: no allocation per block, nothing left for the GC here.
          const buffers = [block.values.buffer as ArrayBuffer];
          if (block.labels) buffers.push(block.labels.buffer as ArrayBuffer);
          const recycle: WorkerMessage = { kind: 'recycle', buffers };
          block.from.postMessage(recycle, buffers);
          yield* builder.take();
          continue;
        }
        if (state.error) throw state.error;
        if (state.done) break;
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      states[i] = undefined;
      options.onPart?.(parts[i]!, state.bytes);
    }
    builder.flush();
    yield* builder.take();
  } finally {
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
