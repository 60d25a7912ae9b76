/**
 * Request body parsing alone, old vs new in one process: the serving benchmark's bodies (1, 100 and
 * 1,000 rows of bench/kmeans-serving.ts's rows, d=50, eight different bodies of each) as CSV, JSON (`{"instances": [{"features":
 * [...]}]}`), plain JSON lists and JSON Lines, through this checkout's byte-level readers
 * (`parseCsvBody`, `parseJsonRows`, `parseJsonLinesRows`) and a baseline checkout's, alternating over
 * rounds; prints CPU microseconds per body (median of rounds) and the ratio, after checking both give
 * the same float32 bytes.
 *
 *   npm run bench:parse-bodies -- --baseline /path/to/older/smkit [--bodies csv,json] [--rounds 60]
 *
 * The baseline is a checkout built with `npm run build` (its dist/src/io/*.js are imported).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as csv from '../src/io/csv.js';
import * as json from '../src/io/json-rows.js';
import type { RecordBatch } from '../src/io/records.js';
import { type BodyKind, encodeBody, parseBodyKinds } from './bodies.js';
import { makeRows, option, stringOption } from './kmeans-serving.js';
import { median } from './stats.js';

type Allocate = (length: number) => Float32Array;
type Parse = (body: Buffer, allocate: Allocate) => RecordBatch | undefined;
type Modules = { csv: typeof csv; json: typeof json };

const BASELINE = stringOption('baseline', '');
const KINDS = parseBodyKinds(stringOption('bodies', 'csv,json,jsonlist,jsonl')).filter(
  (kind) => kind !== 'recordio' && kind !== 'npy',
);
const ROUNDS = option('rounds', 60);
/** Bytes parsed per timed batch (a batch of one body size is about 10-40 ms of CPU). */
const BATCH_BYTES = option('batch-bytes', 20e6);
const SIZES = [1, 100, 1000];
/**
 * Different bodies per size, parsed in turn: one body parsed over and over has its branches learnt
 * by the CPU (a 100-row body parsed 35% faster repeated than in turn with 9 others), which no
 * server sees.
 */
const VARIANTS = 8;
const MAX_VALUES = 1e8;

/** The reader of `kind` in `modules`. */
function reader(modules: Modules, kind: BodyKind): Parse {
  switch (kind) {
    case 'csv':
      return (body, allocate) => modules.csv.parseCsvBody(body, { allocate });
    case 'jsonl':
      return (body, allocate) => modules.json.parseJsonLinesRows(body, MAX_VALUES, allocate);
    default:
      return (body, allocate) => modules.json.parseJsonRows(body, MAX_VALUES, allocate);
  }
}

/**
 * CPU microseconds per parse (user + system: the machine is shared, so time off the CPU is not
 * counted), parsing `times` bodies, in turn from `bodies`, into one reused array.
 */
function timeParse(parse: Parse, bodies: readonly Buffer[], scratch: Float32Array, times: number): number {
  const allocate = (length: number) => scratch.subarray(0, length);
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++) parse(bodies[i % bodies.length]!, allocate);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / times;
}

const hex = (batch: RecordBatch | undefined) =>
  batch
    ? Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength).toString('hex')
    : '';

async function main(): Promise<void> {
  if (!BASELINE) throw new Error('--baseline /path/to/older/smkit is required (a built checkout)');
  const load = (file: string) => import(pathToFileURL(path.resolve(BASELINE, 'dist/src/io', file)).href);
  const old: Modules = { csv: await load('csv.js'), json: await load('json-rows.js') };
  const variants = Array.from({ length: VARIANTS }, (_, i) => makeRows(Math.max(...SIZES), 2 + i));
  for (const kind of KINDS) {
    const before = reader(old, kind);
    const after = reader({ csv, json }, kind);
    for (const size of SIZES) {
      const bodies = variants.map((rows) => encodeBody(kind, rows.slice(0, size)));
      const fresh = (length: number) => new Float32Array(length);
      for (const body of bodies) {
        const expected = hex(before(body, fresh));
        if (!expected || expected !== hex(after(body, fresh))) {
          throw new Error(`${kind}, ${size} rows: the baseline and this checkout parse to different bytes`);
        }
      }
      const body = bodies[0]!;
      // Room for the JSON readers' estimate of the rows from the first one (a few percent over).
      const scratch = new Float32Array(Math.ceil(size * 1.1 + 2) * variants[0]![0]!.length);
      const times = Math.max(20, Math.round(BATCH_BYTES / body.length));
      const a: number[] = [];
      const b: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        a.push(timeParse(before, bodies, scratch, times));
        b.push(timeParse(after, bodies, scratch, times));
      }
      const old = median(a);
      const now = median(b);
      console.log(
        `${kind.padEnd(8)} ${String(size).padStart(5)} rows (${String(body.length).padStart(6)} bytes)` +
          `  baseline ${old.toFixed(2).padStart(8)} us  this ${now.toFixed(2).padStart(8)} us` +
          `  baseline/this ${(old / now).toFixed(2)}x`,
      );
    }
  }
}

await main();
