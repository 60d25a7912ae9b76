/**
 * PCA benchmark: smkit's one-pass PCA against its fair peers, in the same run.
 *
 *   regular, in memory:    N x D float32 (default 1,000,000 x 50), 10 components, against numpy's
 *                          covariance method (the one SageMaker's regular mode and smkit use):
 *                          center, `Xc.T @ Xc`, `np.linalg.eigh`, in float32 and in float64; the
 *                          uncentered `X.T @ X` + eigh is printed beside it. Only the compute is timed:
 *                          the data is already in RAM on both sides (smkit feeds it in mini-batches, as a
 *                          channel yields them).
 *   regular, end to end:   the same rows in one CSV file. smkit: `smkit train` (the container's
 *                          training path over a File-mode channel); its in-job time (the closing
 *                          `#metrics` totaltime) and the whole process, with process startup measured
 *                          separately on a one-row job. Peer: pandas.read_csv(header=None,
 *                          dtype=float32) + numpy's covariance + eigh, timed inside the process and as
 *                          a whole process.
 *   randomized, in memory: N x D (default 200,000 x 1000), 10 components, against scikit-learn's
 *                          PCA(svd_solver='randomized').
 *
 * Ratios are peer time / smkit time (> 1: smkit is faster), wall and CPU. |cos| per component is
 * against the peer's components. With `--baseline DIR` (a worktree of an older commit, built), that
 * commit's smkit runs too, alternating with this one, and before/after ratios are printed.
 * Writes bench/results/pca.json (or --out), with the load average before and after.
 *
 * Usage: node dist/bench/pca.js [--rows 1000000] [--dim 50] [--components 10] [--batch 10000]
 *        [--rand-rows 200000] [--rand-dim 1000] [--repeat 3] [--baseline /work/wt/pca-base]
 *        [--skip memory,e2e,randomized] [--sklearn-full] [--dir /tmp/smkit-bench-pca]
 *        [--python /usr/bin/python3] [--out bench/results/pca.json]
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
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(HERE, '../..')
  : path.resolve(HERE, '..');

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '50' },
    'rand-rows': { type: 'string', default: '200000' },
    'rand-dim': { type: 'string', default: '1000' },
    components: { type: 'string', default: '10' },
    batch: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    skip: { type: 'string', default: '' },
    'sklearn-full': { type: 'boolean', default: false },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'smkit-bench-pca') },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string' },
  },
});
const K = Number(args.components);
const REPEAT = Math.max(1, Number(args.repeat));
const BATCH = Number(args.batch);
const SKIP = new Set(args.skip.split(',').filter(Boolean));
const DIR = args.dir;
mkdirSync(DIR, { recursive: true });

const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const load = () => os.loadavg().map((v) => round(v, 2));

/** An smkit checkout under test: this one, or the --baseline worktree (same API, older code). */
interface Subject {
  readonly name: 'smkit' | 'baseline';
  readonly root: string;
}
const SUBJECTS: Subject[] = [
  { name: 'smkit', root: ROOT },
  ...(args.baseline ? [{ name: 'baseline' as const, root: path.resolve(args.baseline) }] : []),
];

/** Low-rank structure plus uniform noise, deterministic. */
function makeData(rows: number, dim: number, rank: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  const mixing = Float64Array.from({ length: rank * dim }, () => random() * 4);
  const x = new Float32Array(rows * dim);
  const factors = new Float64Array(rank);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < rank; f++) factors[f] = random() * (rank - f);
    const o = r * dim;
    for (let j = 0; j < dim; j++) x[o + j] = 3 + random();
    for (let f = 0; f < rank; f++) {
      const a = factors[f]!;
      const base = f * dim;
      for (let j = 0; j < dim; j++) x[o + j]! += a * mixing[base + j]!;
    }
  }
  return x;
}

/** Writes `x` as headerless CSV with 5 decimals; kept in --dir for the next run. */
function writeCsv(file: string, x: Float32Array, dim: number): void {
  if (existsSync(file)) return;
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  const rows = x.length / dim;
  const cells: string[] = new Array(dim);
  for (let r = 0; r < rows; r += 10_000) {
    const lines: string[] = [];
    for (let i = r; i < Math.min(rows, r + 10_000); i++) {
      for (let j = 0; j < dim; j++) cells[j] = x[i * dim + j]!.toFixed(5);
      lines.push(cells.join(','));
    }
    writeSync(fd, `${lines.join('\n')}\n`);
  }
  closeSync(fd);
  execFileSync('mv', [partial, file]);
}

// Debian's numpy is slowed by the OPENBLAS_* overrides this machine sets for older builds.
const PYTHON_ENV = { ...process.env };
delete PYTHON_ENV['OPENBLAS_CORETYPE'];
delete PYTHON_ENV['OPENBLAS_L2_SIZE'];

function python<T>(script: string, argv: string[] = []): T {
  return JSON.parse(
    execFileSync(args.python!, ['-c', script, ...argv], {
      encoding: 'utf8',
      env: PYTHON_ENV,
      maxBuffer: 1 << 28,
    }),
  ) as T;
}

/** Shared by the peers: numpy's covariance method, top-k components (rows, descending). */
const NUMPY_COVARIANCE = `
import json, sys, time, numpy as np
def covariance_pca(X, k, center=True):
    if center:
        Xc = X - X.mean(axis=0)
    else:
        Xc = X
    C = Xc.T @ Xc
    w, v = np.linalg.eigh(C)
    return v[:, ::-1][:, :k].T
def timed(f):
    t, c = time.perf_counter(), time.process_time()
    r = f()
    return r, time.perf_counter() - t, time.process_time() - c
`;

interface Timing {
  seconds: number;
  cpuSeconds: number;
}

interface NumpyInMemory {
  f32: Timing[];
  f64: Timing[];
  f32_uncentered: Timing[];
  components_f32: number[][];
  components_f64: number[][];
  blas: string;
}

function numpyInMemory(file: string, rows: number, dim: number): NumpyInMemory {
  return python<NumpyInMemory>(
    `${NUMPY_COVARIANCE}
from threadpoolctl import threadpool_info
X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(${rows}, ${dim})
X64 = X.astype(np.float64)
out = {'f32': [], 'f64': [], 'f32_uncentered': []}
covariance_pca(X[:1000], ${K})
for _ in range(${REPEAT}):
    v32, s, c = timed(lambda: covariance_pca(X, ${K})); out['f32'].append({'seconds': s, 'cpuSeconds': c})
    v64, s, c = timed(lambda: covariance_pca(X64, ${K})); out['f64'].append({'seconds': s, 'cpuSeconds': c})
    _, s, c = timed(lambda: covariance_pca(X, ${K}, center=False)); out['f32_uncentered'].append({'seconds': s, 'cpuSeconds': c})
out['components_f32'] = v32.tolist()
out['components_f64'] = v64.tolist()
out['blas'] = ', '.join(f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}" for i in threadpool_info())
print(json.dumps(out))
`,
    [file],
  );
}

const TIME_FORMAT = '#time_max_rss_kb=%M user=%U sys=%S';

/** CPU seconds and peak RSS of a child run under `/usr/bin/time -f TIME_FORMAT`. */
function processTime(stderr: string): { cpuSeconds: number; maxRssMb: number } {
  const time = /#time_max_rss_kb=(\d+) user=([\d.]+) sys=([\d.]+)/.exec(stderr);
  return { cpuSeconds: Number(time?.[2]) + Number(time?.[3]), maxRssMb: Number(time?.[1]) / 1024 };
}

interface PandasEndToEnd {
  /** Inside the process: read_csv + the compute. */
  seconds: number;
  cpuSeconds: number;
  readSeconds: number;
  computeSeconds: number;
  importSeconds: number;
  components: number[][];
}

function pandasEndToEnd(
  csv: string,
): PandasEndToEnd & { processSeconds: number; processCpuSeconds: number; maxRssMb: number } {
  const script = `
import time
t0 = time.perf_counter()
${NUMPY_COVARIANCE}
import pandas as pd
t1 = time.perf_counter()
start, cpu = time.perf_counter(), time.process_time()
X = pd.read_csv(sys.argv[1], header=None, dtype=np.float32).to_numpy()
read = time.perf_counter() - start
v = covariance_pca(X, ${K})
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({'seconds': seconds, 'cpuSeconds': cpu_seconds, 'readSeconds': read, 'computeSeconds': seconds - read,
  'importSeconds': t1 - t0, 'components': v.tolist()}))
`;
  const started = performance.now();
  const child = spawnSync('/usr/bin/time', ['-f', TIME_FORMAT, args.python!, '-c', script, csv], {
    encoding: 'utf8',
    env: PYTHON_ENV,
    maxBuffer: 1 << 26,
  });
  const processSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`pandas peer failed: ${child.stderr.slice(-2000)}`);
  const time = processTime(child.stderr);
  return {
    ...(JSON.parse(child.stdout) as PandasEndToEnd),
    processSeconds,
    processCpuSeconds: time.cpuSeconds,
    maxRssMb: time.maxRssMb,
  };
}

/** The subset of algorithms/pca/math that both this checkout and the baseline export. */
interface PcaMath {
  PcaAccumulator: new (
    options: Record<string, unknown>,
  ) => {
    add(values: Float32Array, rows: number): Promise<void>;
    finish(): Promise<unknown>;
  };
  /** This checkout's kernel; commits before the WebAssembly Gram kernel export only createOnnxKernel. */
  createPcaKernel?(dim: number): Promise<{ close(): Promise<void> }>;
  createOnnxKernel?(dim: number): Promise<{ close(): Promise<void> }>;
  solvePca(summary: unknown, k: number): { v: Float64Array };
}

const math = new Map<string, PcaMath>();
async function loadMath(subject: Subject): Promise<PcaMath> {
  let found = math.get(subject.root);
  if (!found) {
    found = (await import(
      pathToFileURL(path.join(subject.root, 'dist/algorithms/pca/math/index.js')).href
    )) as PcaMath;
    math.set(subject.root, found);
  }
  return found;
}

/** smkit's PCA on rows in memory, fed in mini-batches as a channel yields them. */
async function smkitInMemory(subject: Subject, x: Float32Array, dim: number, mode: 'regular' | 'randomized') {
  const { PcaAccumulator, createPcaKernel, createOnnxKernel, solvePca } = await loadMath(subject);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const kernel = await (createPcaKernel ?? createOnnxKernel)!(dim);
  const accumulator = new PcaAccumulator({
    mode,
    dim,
    subtractMean: true,
    sketchRows: K + Math.max(10, K),
    seed: 1,
    kernel,
  });
  const rows = x.length / dim;
  for (let r = 0; r < rows; r += BATCH) {
    const end = Math.min(rows, r + BATCH);
    await accumulator.add(x.subarray(r * dim, end * dim), end - r);
  }
  const model = solvePca(await accumulator.finish(), K);
  await kernel.close();
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    v: model.v,
  };
}

/** Every subject's in-memory fits, alternating, after a warm-up on `warmRows` rows; v from this checkout. */
async function timeInMemory(x: Float32Array, dim: number, mode: 'regular' | 'randomized', warmRows: number) {
  const ours: Record<string, Timing[]> = {};
  let v: Float64Array | undefined;
  for (const subject of SUBJECTS) {
    await smkitInMemory(subject, x.subarray(0, Math.min(x.length / dim, warmRows) * dim), dim, mode);
    ours[subject.name] = [];
  }
  for (let i = 0; i < REPEAT; i++) {
    for (const subject of SUBJECTS) {
      const run = await smkitInMemory(subject, x, dim, mode);
      ours[subject.name]!.push(run);
      if (subject.name === 'smkit') v = run.v;
    }
  }
  return { ours, v: v! };
}

/** |cos| between smkit's components (columns of d x k, ascending) and the peer's (rows, descending). */
function agreement(v: ArrayLike<number>, dim: number, k: number, theirs: number[][]): number[] {
  return Array.from({ length: k }, (_, i) => {
    const c = k - 1 - i;
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let r = 0; r < dim; r++) {
      const x = v[r * k + c]!;
      const y = theirs[i]![r]!;
      dot += x * y;
      a += x * x;
      b += y * y;
    }
    return round(Math.abs(dot) / Math.sqrt(a * b), 7);
  });
}

function summarize(samples: Timing[]) {
  return {
    seconds: round(median(samples.map((s) => s.seconds))),
    cpuSeconds: round(median(samples.map((s) => s.cpuSeconds))),
    samples: samples.map((s) => ({ seconds: round(s.seconds), cpuSeconds: round(s.cpuSeconds) })),
  };
}

const ratio = (peer: number, ours: number) => round(peer / ours, 2);

async function regularInMemory(x: Float32Array, rows: number, dim: number) {
  const file = path.join(DIR, `regular-${rows}x${dim}.f32`);
  writeFileSync(file, x);
  const { ours, v } = await timeInMemory(x, dim, 'regular', 20_000);
  const peer = numpyInMemory(file, rows, dim);
  rmSync(file, { force: true });
  const smkit = summarize(ours['smkit']!);
  const f32 = summarize(peer.f32);
  const f64 = summarize(peer.f64);
  const uncentered = summarize(peer.f32_uncentered);
  const result = {
    rows,
    dim,
    components: K,
    smkit,
    ...(ours['baseline'] ? { baseline: summarize(ours['baseline']) } : {}),
    numpy_f32_covariance_eigh: f32,
    numpy_f64_covariance_eigh: f64,
    numpy_f32_uncentered_gram_eigh: uncentered,
    numpy_blas: peer.blas,
    ratio_vs_numpy_f32: ratio(f32.seconds, smkit.seconds),
    ratio_vs_numpy_f64: ratio(f64.seconds, smkit.seconds),
    ratio_vs_numpy_f32_uncentered: ratio(uncentered.seconds, smkit.seconds),
    cpu_ratio_vs_numpy_f32: ratio(f32.cpuSeconds, smkit.cpuSeconds),
    cpu_ratio_vs_numpy_f64: ratio(f64.cpuSeconds, smkit.cpuSeconds),
    abs_cosine_vs_numpy_f32: agreement(v, dim, K, peer.components_f32),
    abs_cosine_vs_numpy_f64: agreement(v, dim, K, peer.components_f64),
  };
  console.log(
    `regular in memory, ${rows} x ${dim}, ${K} components: smkit ${smkit.seconds} s (CPU ${smkit.cpuSeconds} s)` +
      (ours['baseline'] ? `, baseline ${summarize(ours['baseline']).seconds} s` : '') +
      `; numpy covariance + eigh f32 ${f32.seconds} s (CPU ${f32.cpuSeconds}), f64 ${f64.seconds} s (CPU ${f64.cpuSeconds}), ` +
      `uncentered X.T@X f32 ${uncentered.seconds} s\n` +
      `  -> smkit ${result.ratio_vs_numpy_f32}x numpy f32, ${result.ratio_vs_numpy_f64}x f64, ` +
      `${result.ratio_vs_numpy_f32_uncentered}x uncentered f32 (CPU: ${result.cpu_ratio_vs_numpy_f32}x f32, ${result.cpu_ratio_vs_numpy_f64}x f64)\n` +
      `  |cos| vs numpy f32 ${result.abs_cosine_vs_numpy_f32.join(' ')}\n  |cos| vs numpy f64 ${result.abs_cosine_vs_numpy_f64.join(' ')}`,
  );
  if (ours['baseline']) {
    const base = summarize(ours['baseline']);
    console.log(
      `  before/after: ${ratio(base.seconds, smkit.seconds)}x wall, ${ratio(base.cpuSeconds, smkit.cpuSeconds)}x CPU`,
    );
  }
  return result;
}

interface JobRun extends Timing {
  /** The job's own closing `#metrics` totaltime: the training without process startup. */
  inJobSeconds: number;
  maxRssMb: number;
  modelDir: string;
}

/** `smkit train` over a File-mode CSV channel holding `csv` (hard-linked), as the container runs it. */
function smkitJob(subject: Subject, name: string, csv: string, dim: number): JobRun {
  const base = path.join(DIR, `job-${subject.name}-${name}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(path.join(base, 'input/config'), { recursive: true });
  mkdirSync(path.join(base, 'input/data/train'), { recursive: true });
  linkSync(csv, path.join(base, 'input/data/train', path.basename(csv)));
  const hyperparameters = {
    smkit_algorithm: 'pca',
    feature_dim: String(dim),
    num_components: String(K),
    mini_batch_size: String(BATCH),
    algorithm_mode: 'regular',
  };
  writeFileSync(path.join(base, 'input/config/hyperparameters.json'), JSON.stringify(hyperparameters));
  writeFileSync(
    path.join(base, 'input/config/inputdataconfig.json'),
    JSON.stringify({ train: { ContentType: 'text/csv', TrainingInputMode: 'File' } }),
  );
  writeFileSync(
    path.join(base, 'input/config/resourceconfig.json'),
    JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'] }),
  );
  const started = performance.now();
  const child = spawnSync(
    '/usr/bin/time',
    ['-f', TIME_FORMAT, path.join(subject.root, 'bin/smkit'), 'train'],
    { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, SAGEMAKER_BASE_DIR: base } },
  );
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0)
    throw new Error(`smkit train failed (${child.status}): ${child.stderr.slice(-2000)}`);
  const time = processTime(child.stderr);
  const totals = [...child.stdout.matchAll(/"totaltime":\{"sum":([\d.]+)/g)];
  const inJobMs = Number(totals.at(-1)?.[1]);
  return {
    seconds,
    cpuSeconds: time.cpuSeconds,
    inJobSeconds: inJobMs / 1000,
    maxRssMb: time.maxRssMb,
    modelDir: path.join(base, 'model'),
  };
}

async function readComponents(subject: Subject, modelDir: string): Promise<ArrayLike<number>> {
  const model = (await import(
    pathToFileURL(path.join(subject.root, 'dist/algorithms/pca/model.js')).href
  )) as {
    readModelDir(dir: string): Promise<{ v: ArrayLike<number> }>;
  };
  return (await model.readModelDir(modelDir)).v;
}

async function regularEndToEnd(x: Float32Array, rows: number, dim: number) {
  const csv = path.join(DIR, `regular-${rows}x${dim}.csv`);
  writeCsv(csv, x, dim);
  const tiny = path.join(DIR, `tiny-${dim}.csv`);
  writeCsv(tiny, x.subarray(0, 20 * dim), dim);
  const jobs: Record<string, JobRun[]> = {};
  const startups: Record<string, number[]> = {};
  for (const subject of SUBJECTS) {
    jobs[subject.name] = [];
    startups[subject.name] = [];
  }
  const peers: ReturnType<typeof pandasEndToEnd>[] = [];
  for (let i = 0; i < REPEAT; i++) {
    for (const subject of SUBJECTS) {
      startups[subject.name]!.push(smkitJob(subject, 'tiny', tiny, dim).seconds);
      jobs[subject.name]!.push(smkitJob(subject, 'regular', csv, dim));
    }
    peers.push(pandasEndToEnd(csv));
  }
  const job = (name: string) => {
    const runs = jobs[name]!;
    return {
      process: summarize(runs),
      in_job_seconds: round(median(runs.map((r) => r.inJobSeconds))),
      startup_seconds: round(median(startups[name]!)),
      max_rss_mb: round(median(runs.map((r) => r.maxRssMb)), 1),
    };
  };
  const smkit = job('smkit');
  const peer = {
    in_process: summarize(peers),
    read_csv_seconds: round(median(peers.map((p) => p.readSeconds))),
    compute_seconds: round(median(peers.map((p) => p.computeSeconds))),
    import_seconds: round(median(peers.map((p) => p.importSeconds))),
    process_seconds: round(median(peers.map((p) => p.processSeconds))),
    process_cpu_seconds: round(median(peers.map((p) => p.processCpuSeconds))),
    max_rss_mb: round(median(peers.map((p) => p.maxRssMb)), 1),
  };
  const v = await readComponents(SUBJECTS[0]!, jobs['smkit']!.at(-1)!.modelDir);
  const result = {
    rows,
    dim,
    csv_mb: round(Number(execFileSync('stat', ['-c', '%s', csv], { encoding: 'utf8' })) / 1e6, 1),
    smkit,
    ...(jobs['baseline'] ? { baseline: job('baseline') } : {}),
    pandas_numpy_f32: peer,
    ratio_in_job_vs_pandas_in_process: ratio(peer.in_process.seconds, smkit.in_job_seconds),
    ratio_process_vs_process: ratio(peer.process_seconds, smkit.process.seconds),
    cpu_ratio_process_vs_process: ratio(peer.process_cpu_seconds, smkit.process.cpuSeconds),
    abs_cosine_vs_pandas_numpy: agreement(v, dim, K, peers.at(-1)!.components),
  };
  console.log(
    `regular end to end, ${rows} x ${dim} CSV (${result.csv_mb} MB): smkit train ${smkit.in_job_seconds} s in the job, ` +
      `${smkit.process.seconds} s as a process (CPU ${smkit.process.cpuSeconds} s, startup ${smkit.startup_seconds} s, ` +
      `peak RSS ${smkit.max_rss_mb} MB); pandas.read_csv + numpy f32 ${peer.in_process.seconds} s in the process ` +
      `(read ${peer.read_csv_seconds} s, compute ${peer.compute_seconds} s), ${peer.process_seconds} s as a process ` +
      `(imports ${peer.import_seconds} s, peak RSS ${peer.max_rss_mb} MB)\n` +
      `  -> smkit ${result.ratio_in_job_vs_pandas_in_process}x (in-process times), ${result.ratio_process_vs_process}x (whole processes), ` +
      `CPU ${result.cpu_ratio_process_vs_process}x\n  |cos| vs pandas + numpy ${result.abs_cosine_vs_pandas_numpy.join(' ')}`,
  );
  if (jobs['baseline']) {
    const base = job('baseline');
    console.log(
      `  before/after: baseline ${base.in_job_seconds} s in the job (${base.process.seconds} s process, CPU ${base.process.cpuSeconds} s) -> ` +
        `${ratio(base.in_job_seconds, smkit.in_job_seconds)}x in the job, ${ratio(base.process.cpuSeconds, smkit.process.cpuSeconds)}x CPU`,
    );
  }
  for (const subject of SUBJECTS) {
    rmSync(path.join(DIR, `job-${subject.name}-regular`), { recursive: true, force: true });
    rmSync(path.join(DIR, `job-${subject.name}-tiny`), { recursive: true, force: true });
  }
  return result;
}

interface SklearnRandomized {
  runs: Timing[];
  components: number[][];
  blas: string;
  /** Variance of the data inside smkit's k-dimensional subspace / sklearn's top-k explained variance. */
  captured: number;
}

async function randomizedInMemory(rows: number, dim: number) {
  const x = makeData(rows, dim, Math.min(dim, 12), 42);
  const file = path.join(DIR, `randomized-${rows}x${dim}.f32`);
  writeFileSync(file, x);
  const { ours, v } = await timeInMemory(x, dim, 'randomized', 2000);
  const componentsFile = path.join(DIR, 'v.f64');
  writeFileSync(componentsFile, v);
  const peer = python<SklearnRandomized>(
    `
import json, sys, time, numpy as np
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_info
X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(${rows}, ${dim})
runs = []
for _ in range(${REPEAT}):
    t, c = time.perf_counter(), time.process_time()
    p = PCA(n_components=${K}, svd_solver='randomized', random_state=0).fit(X)
    runs.append({'seconds': time.perf_counter() - t, 'cpuSeconds': time.process_time() - c})
blas = ', '.join(f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}" for i in threadpool_info())
V = np.fromfile(sys.argv[2], dtype=np.float64).reshape(${dim}, ${K})
captured = float(np.sum(((X - p.mean_) @ V) ** 2) / (${rows} - 1) / p.explained_variance_.sum())
print(json.dumps({'runs': runs, 'components': p.components_.tolist(), 'blas': blas, 'captured': captured}))
`,
    [file, componentsFile],
  );
  rmSync(file, { force: true });
  rmSync(componentsFile, { force: true });
  const smkit = summarize(ours['smkit']!);
  const sklearn = summarize(peer.runs);
  const result = {
    rows,
    dim,
    components: K,
    smkit,
    ...(ours['baseline'] ? { baseline: summarize(ours['baseline']) } : {}),
    sklearn_randomized: sklearn,
    sklearn_blas: peer.blas,
    ratio_vs_sklearn: ratio(sklearn.seconds, smkit.seconds),
    cpu_ratio_vs_sklearn: ratio(sklearn.cpuSeconds, smkit.cpuSeconds),
    abs_cosine_vs_sklearn: agreement(v, dim, K, peer.components),
    captured_variance_vs_sklearn: round(peer.captured, 6),
  };
  console.log(
    `randomized in memory, ${rows} x ${dim}, ${K} components: smkit ${smkit.seconds} s (CPU ${smkit.cpuSeconds} s), ` +
      `sklearn randomized ${sklearn.seconds} s (CPU ${sklearn.cpuSeconds} s) -> smkit ${result.ratio_vs_sklearn}x ` +
      `(CPU ${result.cpu_ratio_vs_sklearn}x); variance captured vs sklearn ${result.captured_variance_vs_sklearn}\n` +
      `  |cos| vs sklearn ${result.abs_cosine_vs_sklearn.join(' ')} (randomized sketches of near-equal trailing ` +
      'components differ; the captured variance is the measure)',
  );
  return result;
}

/** The old peer, for continuity with earlier results: scikit-learn's full SVD (slow). */
function sklearnFull(x: Float32Array, rows: number, dim: number) {
  const file = path.join(DIR, `full-${rows}x${dim}.f32`);
  writeFileSync(file, x);
  const peer = python<Timing>(
    `
import json, sys, time, numpy as np
from sklearn.decomposition import PCA
X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(${rows}, ${dim})
t, c = time.perf_counter(), time.process_time()
PCA(n_components=${K}, svd_solver='full').fit(X)
print(json.dumps({'seconds': time.perf_counter() - t, 'cpuSeconds': time.process_time() - c}))
`,
    [file],
  );
  rmSync(file, { force: true });
  console.log(
    `sklearn PCA(svd_solver='full'), ${rows} x ${dim}: ${round(peer.seconds)} s (CPU ${round(peer.cpuSeconds)} s)`,
  );
  return { seconds: round(peer.seconds), cpuSeconds: round(peer.cpuSeconds) };
}

const loadBefore = load();
const rows = Number(args.rows);
const dim = Number(args.dim);
const results: Record<string, unknown> = {};
if (!SKIP.has('memory') || !SKIP.has('e2e') || args['sklearn-full']) {
  const x = makeData(rows, dim, Math.min(dim, 12), 42);
  if (!SKIP.has('memory')) results['regular_in_memory'] = await regularInMemory(x, rows, dim);
  if (!SKIP.has('e2e')) results['regular_end_to_end'] = await regularEndToEnd(x, rows, dim);
  if (args['sklearn-full']) results['sklearn_full_svd'] = sklearnFull(x, rows, dim);
}
if (!SKIP.has('randomized')) {
  results['randomized_in_memory'] = await randomizedInMemory(
    Number(args['rand-rows']),
    Number(args['rand-dim']),
  );
}
const loadAfter = load();
console.log(
  `load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')} (${os.availableParallelism()} CPUs)`,
);
// Relative to the working directory: `npm run bench:pca` runs from the repository root.
const out = path.resolve(args.out ?? 'bench/results/pca.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: 'pca',
      date: new Date().toISOString(),
      cpus: os.availableParallelism(),
      node: process.version,
      load_average_before: loadBefore,
      load_average_after: loadAfter,
      baseline: args.baseline ?? null,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
