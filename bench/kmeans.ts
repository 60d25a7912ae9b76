/**
 * k-means benchmark: smkit's training job (a child process reading a CSV channel, end to end) against
 * what a user would run instead, pandas.read_csv + sklearn KMeans(n_init=1) on the same file, with
 * Debian's /usr/bin/python3. Also one full nearest-center assignment pass (onnxruntime) against one
 * sklearn Lloyd iteration, and optionally the peak RSS of a job on a large CSV.
 *
 * Usage: node dist/bench/kmeans.js [--rows 1000000] [--dim 50] [--ks 10,100] [--rss-gb 2] [--dir DIR]
 * Writes bench/results/kmeans.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kmeans } from '../algorithms/kmeans/index.js';
import { createOnnxAssigner } from '../algorithms/kmeans/math/onnx-assigner.js';
import { createRandom } from '../algorithms/kmeans/math/random.js';
import { median } from './stats.js';

const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(HERE, '../..')
  : path.resolve(HERE, '..');

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '50' },
    ks: { type: 'string', default: '10,100' },
    'true-centers': { type: 'string', default: '25' },
    'rss-gb': { type: 'string', default: '0' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'smkit-bench-kmeans') },
  },
});
const ROWS = Number(args.rows);
const DIM = Number(args.dim);
const KS = args.ks.split(',').map(Number);
const TRUE_CENTERS = Number(args['true-centers']);
const DIR = args.dir;
mkdirSync(DIR, { recursive: true });

/** Gaussian blobs, deterministic; values rounded to 4 decimals exactly as the CSV holds them. */
function* generateRows(rows: number, dim: number, seed: number): Generator<Float64Array> {
  const random = createRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const truthRandom = createRandom(seed + 1);
  const truthGauss = () =>
    Math.sqrt(-2 * Math.log(truthRandom() + 1e-12)) * Math.cos(2 * Math.PI * truthRandom());
  const truth = Float64Array.from({ length: TRUE_CENTERS * dim }, () => truthGauss() * 2);
  const row = new Float64Array(dim);
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(random() * TRUE_CENTERS);
    const spread = 0.5 + (c % 5) * 0.25; // unequal cluster widths, so the optimum is not trivial
    for (let t = 0; t < dim; t++) row[t] = Math.round((truth[c * dim + t]! + gauss() * spread) * 1e4) / 1e4;
    yield row;
  }
}

function writeCsv(file: string, rows: number, dim: number, seed: number): void {
  if (existsSync(file)) return;
  const started = performance.now();
  const fd = openSync(`${file}.tmp`, 'w');
  let chunk: string[] = [];
  for (const row of generateRows(rows, dim, seed)) {
    chunk.push(Array.from(row, (v) => v.toFixed(4)).join(','));
    if (chunk.length === 20_000) {
      writeSync(fd, `${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length) writeSync(fd, `${chunk.join('\n')}\n`);
  closeSync(fd);
  execFileSync('mv', [`${file}.tmp`, file]);
  console.log(
    `generated ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

function loadMatrix(rows: number, dim: number, seed: number): Float32Array {
  const values = new Float32Array(rows * dim);
  let i = 0;
  for (const row of generateRows(rows, dim, seed)) values.set(row, i++ * dim);
  return values;
}

interface JobResult {
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly trainMsd: number;
  readonly lines: string[];
  readonly modelDir: string;
}

/** A SageMaker directory layout whose train channel is `csv` (hard-linked), then `smkit train` on it. */
function runSmkitJob(name: string, csv: string, hyperparameters: Record<string, string>): JobResult {
  const base = path.join(DIR, `job-${name}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(path.join(base, 'input/config'), { recursive: true });
  mkdirSync(path.join(base, 'input/data/train'), { recursive: true });
  linkSync(csv, path.join(base, 'input/data/train', path.basename(csv)));
  writeFileSync(
    path.join(base, 'input/config/hyperparameters.json'),
    JSON.stringify({ ...hyperparameters, smkit_algorithm: 'kmeans' }),
  );
  writeFileSync(
    path.join(base, 'input/config/inputdataconfig.json'),
    JSON.stringify({ train: { ContentType: 'text/csv', TrainingInputMode: 'File' } }),
  );
  writeFileSync(
    path.join(base, 'input/config/resourceconfig.json'),
    JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'] }),
  );
  const started = performance.now();
  // The job exactly as a container runs it: `smkit train` with the built-in algorithm selected.
  const child = spawnSync(
    '/usr/bin/time',
    ['-f', '#time_max_rss_kb=%M', path.join(ROOT, 'bin/smkit'), 'train'],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, SAGEMAKER_BASE_DIR: base },
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0)
    throw new Error(`smkit train failed (${child.status}): ${child.stderr.slice(-2000)}`);
  const lines = child.stdout.split('\n').filter((l) => l.startsWith('#'));
  const rss = /#time_max_rss_kb=(\d+)/.exec(child.stderr)?.[1];
  const trainMsd = Number(/train msd <loss>=(\S+)/.exec(child.stdout)?.[1]);
  return { seconds, peakRssMb: Number(rss) / 1024, trainMsd, lines, modelDir: path.join(base, 'model') };
}

const SKLEARN = `
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.cluster import KMeans
file, k = sys.argv[1], int(sys.argv[2])
X = pd.read_csv(file, header=None).to_numpy()
t1 = time.perf_counter()
km = KMeans(n_clusters=k, n_init=1, random_state=0).fit(X)
t2 = time.perf_counter()
# One Lloyd iteration on float32 data: the difference between fits of 6 and 1 iterations from the same init.
X32 = X.astype(np.float32)
init = X32[:k].copy()
def fit(n):
    s = time.perf_counter()
    m = KMeans(n_clusters=k, n_init=1, init=init, max_iter=n, tol=0).fit(X32)
    return time.perf_counter() - s, m.n_iter_
a, na = fit(1)
b, nb = fit(6)
print(json.dumps({"read_s": t1 - t0, "fit_s": t2 - t1, "total_s": t2 - t0, "msd": km.inertia_ / len(X),
                  "n_iter": int(km.n_iter_), "lloyd_iteration_s": (b - a) / (nb - na) if nb > na and b > a else None}))
`;

function runSklearn(csv: string, k: number) {
  const started = performance.now();
  const out = execFileSync(PYTHON, ['-c', SKLEARN, csv, String(k)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const wall = (performance.now() - started) / 1000;
  const parsed = JSON.parse(out.trim().split('\n').pop()!) as {
    read_s: number;
    fit_s: number;
    total_s: number;
    msd: number;
    n_iter: number;
    /** null when too small to measure (the 6-iteration fit was not slower than the 1-iteration one). */
    lloyd_iteration_s: number | null;
  };
  // The end-to-end time a user sees is read + fit; the Lloyd-iteration timing afterwards is not part of it.
  return { ...parsed, wall_s: wall };
}

async function dataMsd(modelDir: string, values: Float32Array, dim: number): Promise<number> {
  const predictor = await kmeans.load(modelDir);
  const rows = values.length / dim;
  const step = 65_536;
  let sum = 0;
  for (let start = 0; start < rows; start += step) {
    const end = Math.min(rows, start + step);
    const out = await predictor.predict({
      rows: end - start,
      dim,
      values: values.subarray(start * dim, end * dim),
    });
    for (const d of out.columns['distance_to_cluster']!) sum += d * d;
  }
  return sum / rows;
}

/**
 * One nearest-center pass over all points, in steady state like sklearn's per-iteration figure (the
 * difference of a 6- and a 1-iteration fit). The first passes in a process run ~2.5x slower for about
 * 0.3 s here (onnxruntime and memory warm-up, whatever session runs first), so 5 passes warm up and the
 * median of the next 5 counts; the first pass is reported too.
 */
async function assignmentPass(
  values: Float32Array,
  dim: number,
  k: number,
): Promise<{ steady: number; first: number }> {
  const assigner = await createOnnxAssigner();
  const rows = values.length / dim;
  const centers = values.slice(0, k * dim);
  const step = 65_536;
  const pass = async () => {
    const started = performance.now();
    for (let start = 0; start < rows; start += step) {
      const end = Math.min(rows, start + step);
      await assigner.assign(values.subarray(start * dim, end * dim), end - start, centers, k, dim);
    }
    return (performance.now() - started) / 1000;
  };
  const first = await pass();
  for (let i = 0; i < 4; i++) await pass();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await pass());
  await assigner.close();
  return { steady: median(times), first };
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

async function main(): Promise<void> {
  const seed = 20_240_601;
  const csv = path.join(DIR, `blobs-${ROWS}x${DIM}-c${TRUE_CENTERS}-s${seed}.csv`);
  writeCsv(csv, ROWS, DIM, seed);
  const data = loadMatrix(ROWS, DIM, seed);
  const results: Record<string, unknown>[] = [];
  for (const k of KS) {
    console.log(`\n== k=${k}, ${ROWS} x ${DIM}`);
    const job = runSmkitJob(`k${k}`, csv, { feature_dim: String(DIM), k: String(k) });
    const sk = runSklearn(csv, k);
    const smkitMsd = await dataMsd(job.modelDir, data, DIM);
    const { steady: passSeconds, first: firstPassSeconds } = await assignmentPass(data, DIM, k);
    const result = {
      k,
      rows: ROWS,
      dim: DIM,
      smkit_job_s: round(job.seconds, 3),
      smkit_peak_rss_mb: round(job.peakRssMb, 1),
      smkit_train_msd_logged: job.trainMsd,
      smkit_data_msd: round(smkitMsd, 6),
      sklearn_wall_s: round(sk.wall_s, 3),
      sklearn_read_fit_s: round(sk.total_s, 3),
      sklearn_read_csv_s: round(sk.read_s, 3),
      sklearn_fit_s: round(sk.fit_s, 3),
      sklearn_iterations: sk.n_iter,
      sklearn_msd: round(sk.msd, 6),
      msd_ratio_smkit_over_sklearn: round(smkitMsd / sk.msd, 5),
      speed_ratio_job: round(sk.total_s / job.seconds, 3),
      smkit_assignment_pass_s: round(passSeconds, 4),
      smkit_assignment_first_pass_s: round(firstPassSeconds, 4),
      sklearn_lloyd_iteration_s: sk.lloyd_iteration_s === null ? null : round(sk.lloyd_iteration_s, 4),
      speed_ratio_assignment:
        sk.lloyd_iteration_s === null ? null : round(sk.lloyd_iteration_s / passSeconds, 3),
    };
    results.push(result);
    console.log(
      `smkit job ${result.smkit_job_s} s (peak RSS ${result.smkit_peak_rss_mb} MB) vs pandas+sklearn ${result.sklearn_read_fit_s} s ` +
        `(read ${result.sklearn_read_csv_s} s, fit ${result.sklearn_fit_s} s, ${sk.n_iter} iterations): speed ratio ${result.speed_ratio_job}`,
    );
    console.log(
      `MSD smkit ${result.smkit_data_msd} vs sklearn ${result.sklearn_msd}: ratio ${result.msd_ratio_smkit_over_sklearn}`,
    );
    console.log(
      `assignment pass ${result.smkit_assignment_pass_s} s vs sklearn Lloyd iteration ${result.sklearn_lloyd_iteration_s} s: speed ratio ${result.speed_ratio_assignment}`,
    );
  }
  let rss: Record<string, unknown> | undefined;
  const rssGb = Number(args['rss-gb']);
  if (rssGb > 0) {
    // The base file repeated: memory does not depend on the values, and this takes seconds, not minutes.
    const copies = Math.ceil((rssGb * 1e9) / statSync(csv).size);
    const rows = copies * ROWS;
    const big = path.join(DIR, `blobs-${ROWS}x${DIM}-c${TRUE_CENTERS}-s${seed}-x${copies}.csv`);
    if (!existsSync(big)) {
      execFileSync('sh', [
        '-c',
        `for i in $(seq ${copies}); do cat "$0"; done > "$1.tmp" && mv "$1.tmp" "$1"`,
        csv,
        big,
      ]);
    }
    const job = runSmkitJob('rss', big, { feature_dim: String(DIM), k: '10' });
    rss = {
      csv_gb: round(statSync(big).size / 1e9, 3),
      rows,
      k: 10,
      smkit_job_s: round(job.seconds, 2),
      peak_rss_mb: round(job.peakRssMb, 1),
      goal_mb: 400,
    };
    console.log(`\npeak RSS of a job on a ${rss.csv_gb} GB CSV: ${rss.peak_rss_mb} MB (goal < 400 MB)`);
  }
  const out = {
    benchmark: 'kmeans',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    data: {
      rows: ROWS,
      dim: DIM,
      true_centers: TRUE_CENTERS,
      format: 'text/csv',
      file_mb: round(statSync(csv).size / 1e6, 1),
    },
    peer: 'pandas.read_csv + sklearn.cluster.KMeans(n_init=1), /usr/bin/python3',
    results,
    ...(rss ? { rss } : {}),
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/kmeans.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/kmeans.json`);
}

await main();
