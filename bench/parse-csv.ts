/**
 * CSV body parsing alone, old vs new in one process: the serving benchmark's bodies (1, 100 and
 * 1,000 rows of bench/kmeans-serving.ts's rows, d=50) through this checkout's `parseCsvBody` and a
 * baseline checkout's, alternating over rounds; prints CPU microseconds per body (median of rounds) and
 * the ratio, after checking both give the same float32 bytes.
 *
 *   npm run bench:parse-csv -- --baseline /path/to/older/smkit [--rounds 60] [--batch-bytes 20e6]
 *
 * The baseline is a checkout built with `npm run build` (its dist/src/io/csv.js is imported).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCsvBody } from '../src/io/csv.js';
import type { RecordBatch } from '../src/io/records.js';
import { encodeBody } from './bodies.js';
import { makeRows, option, stringOption } from './kmeans-serving.js';
import { median } from './stats.js';

type Parse = typeof parseCsvBody;

const BASELINE = stringOption('baseline', '');
const ROUNDS = option('rounds', 60);
/** Bytes parsed per timed batch (a batch of one body size is about 10-40 ms of CPU). */
const BATCH_BYTES = option('batch-bytes', 20e6);
const SIZES = [1, 100, 1000];

/**
 * CPU microseconds per parse of `body` (user + system: the machine is shared, so time off the CPU is
 * not counted), parsing `times` times into one reused array.
 */
function timeParse(parse: Parse, body: Buffer, scratch: Float32Array, times: number): number {
  const allocate = (length: number) => scratch.subarray(0, length);
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++) parse(body, { allocate });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / times;
}

const hex = (batch: RecordBatch) =>
  Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength).toString('hex');

async function main(): Promise<void> {
  if (!BASELINE) throw new Error('--baseline /path/to/older/smkit is required (a built checkout)');
  const module = pathToFileURL(path.resolve(BASELINE, 'dist/src/io/csv.js')).href;
  const old = (await import(module)) as { parseCsvBody: Parse };
  const rows = makeRows(Math.max(...SIZES), 2);
  for (const size of SIZES) {
    const body = encodeBody('csv', rows.slice(0, size));
    if (hex(old.parseCsvBody(body)) !== hex(parseCsvBody(body))) {
      throw new Error(`${size} rows: the baseline and this checkout parse to different bytes`);
    }
    const scratch = new Float32Array(size * rows[0]!.length);
    const times = Math.max(20, Math.round(BATCH_BYTES / body.length));
    const before: number[] = [];
    const after: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      before.push(timeParse(old.parseCsvBody, body, scratch, times));
      after.push(timeParse(parseCsvBody, body, scratch, times));
    }
    const a = median(before);
    const b = median(after);
    console.log(
      `${String(size).padStart(5)} rows (${body.length} bytes)  baseline ${a.toFixed(2).padStart(8)} us` +
        `  this ${b.toFixed(2).padStart(8)} us  baseline/this ${(a / b).toFixed(2)}x`,
    );
  }
}

await main();
