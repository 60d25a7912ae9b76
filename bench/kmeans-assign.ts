/**
 * k-means serving's assignment, old against new in one process: the CPU microseconds (user + system,
 * what a loaded machine's other processes do not add) per `predict` of a
 * loaded k-means model (bench:serve's: d=50, k=10, fitted by scikit-learn, and its query rows) for
 * bodies of 1 to 10,000 rows,
 * with another checkout's `loadPredictor` (`--base DIR`, a built checkout: before this change its
 * assigner was onnxruntime with JS for small blocks) beside this one's (the WebAssembly kernel), and
 * the bare assigners: assignJs, onnxruntime as serving used it, and the wasm kernel. The variants
 * take turns in every round; each prints its median over the rounds. The answers' bits are compared
 * with assignJs's too.
 *
 * Usage: npm run build && node dist/bench/kmeans-assign.js [--base /path/to/old/checkout] [--rounds 9]
 *   [--out FILE]
 * Writes bench/results/kmeans-assign.json unless `--out` says otherwise.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Predictor } from '../algorithms/types.js';
import { type Assignment, assignJs } from '../algorithms/kmeans/math/assign.js';
import { createOnnxAssigner } from '../algorithms/kmeans/math/onnx-assigner.js';
import { assignWasm } from '../algorithms/kmeans/math/wasm-assign.js';
import { loadPredictor } from '../algorithms/kmeans/train.js';
import { DIM, K, fitKmeansModel, makeRows, option, repo, stringOption } from './kmeans-serving.js';
import { median } from './stats.js';

const ROWS = [1, 10, 100, 1000, 10_000];
const rounds = option('rounds', 9);
const base = stringOption('base', '');
const out = stringOption('out', path.join(repo, 'bench/results/kmeans-assign.json'));

/** Calls per timed sample: about 20 ms of work for the slowest variant. */
const repsFor = (rows: number) => Math.max(3, Math.round(20_000 / (1 + rows)));

/** Whether two assignments have the same labels and the same distance bits. */
function sameBits(a: Assignment, b: Assignment): boolean {
  const da = new Uint32Array(a.distances.buffer, a.distances.byteOffset, a.distances.length);
  const db = new Uint32Array(b.distances.buffer, b.distances.byteOffset, b.distances.length);
  return a.labels.every((label, i) => label === b.labels[i] && da[i] === db[i]);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-kmeans-assign-'));
  try {
    // bench:serve's model and queries: scikit-learn's fit of the training rows, queries from seed 2.
    const { centroids: centers, modelDir } = await fitKmeansModel(work);
    const ort = await createOnnxAssigner({ threads: 1 });
    const predictors: Record<string, Predictor> = {
      'predict (this checkout)': await loadPredictor(modelDir),
    };
    if (base) {
      const old = await import(path.join(path.resolve(base), 'dist/algorithms/kmeans/train.js'));
      predictors['predict (base)'] = await old.loadPredictor(modelDir);
      // Its onnxruntime session starts in the background; blocks meanwhile run in JS.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const queries = makeRows(Math.max(...ROWS), 2);
    const results: Record<string, unknown>[] = [];
    for (const rows of ROWS) {
      const points = Float32Array.from(queries.slice(0, rows).flat());
      const exact = assignJs(points, rows, centers, K, DIM);
      const variants: Record<string, () => Promise<unknown>> = {
        assignJs: async () => assignJs(points, rows, centers, K, DIM),
        'onnxruntime assigner (1 thread, JS under 200k multiply-adds)': () =>
          ort.assign(points, rows, centers, K, DIM),
        'wasm assigner': async () => assignWasm(points, rows, centers, K, DIM),
      };
      for (const [name, predictor] of Object.entries(predictors)) {
        variants[name] = () => predictor.predict({ rows, dim: DIM, values: points });
      }
      const identical = {
        wasm: sameBits(assignWasm(points, rows, centers, K, DIM), exact),
        onnxruntime: sameBits(await ort.assign(points, rows, centers, K, DIM), exact),
      };
      const names = Object.keys(variants);
      const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
      const reps = repsFor(rows);
      for (const name of names) for (let i = 0; i < reps; i++) await variants[name]!(); // warm up
      for (let round = 0; round < rounds; round++) {
        for (let at = 0; at < names.length; at++) {
          const name = names[(at + round) % names.length]!;
          const started = process.cpuUsage();
          for (let i = 0; i < reps; i++) await variants[name]!();
          const used = process.cpuUsage(started);
          samples[name]!.push((used.user + used.system) / reps);
        }
      }
      const us = Object.fromEntries(names.map((name) => [name, Number(median(samples[name]!).toFixed(2))]));
      results.push({ rows, usPerCall: us, sameBitsAsAssignJs: identical });
      console.log(`${rows} rows:`, JSON.stringify(us), 'same bits as assignJs:', JSON.stringify(identical));
    }
    await ort.close();
    for (const predictor of Object.values(predictors)) await predictor.close?.();
    const report = {
      what: 'CPU microseconds per call (median of rounds), k-means d=50 k=10, variants in turn in one process',
      dim: DIM,
      k: K,
      rounds,
      base: base || undefined,
      loadAverage: os.loadavg(),
      results,
    };
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
