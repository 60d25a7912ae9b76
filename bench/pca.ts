/**
 * PCA benchmark: smkit's one-pass PCA (ONNX Runtime kernels) vs scikit-learn in the same run.
 *   regular:    N x D (default 1,000,000 x 50), 10 components, vs PCA(svd_solver='full')
 *   randomized: N x D (default 200,000 x 1000), 10 components, vs PCA(svd_solver='randomized')
 * Both sides fit in-memory float32 data (smkit fed in mini-batches, as a channel yields them).
 * Prints ratios (sklearn time / smkit time: > 1 means smkit is faster) and writes bench/results/pca.json.
 *
 * Usage: node dist/bench/pca.js [--rows 1000000] [--dim 50] [--rand-rows 200000] [--rand-dim 1000]
 *        [--components 10] [--batch 10000] [--python /usr/bin/python3] [--out bench/results/pca.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PcaAccumulator, type PcaMode, createOnnxKernel, solvePca } from '../algorithms/pca/math/index.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '50' },
    'rand-rows': { type: 'string', default: '200000' },
    'rand-dim': { type: 'string', default: '1000' },
    components: { type: 'string', default: '10' },
    batch: { type: 'string', default: '10000' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string' },
  },
});

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

interface SklearnResult {
  seconds: number;
  components: number[][];
  blas: string;
  /** Variance of the data inside smkit's k-dimensional subspace / sklearn's top-k explained variance. */
  captured: number;
}

function sklearn(
  python: string,
  file: string,
  componentsFile: string,
  rows: number,
  dim: number,
  k: number,
  solver: string,
): SklearnResult {
  const script = `
import json, time, numpy as np
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_info
X = np.fromfile(${JSON.stringify(file)}, dtype=np.float32).reshape(${rows}, ${dim})
t = time.perf_counter()
p = PCA(n_components=${k}, svd_solver='${solver}', random_state=0).fit(X)
seconds = time.perf_counter() - t
blas = ', '.join(f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}" for i in threadpool_info())
V = np.fromfile(${JSON.stringify(componentsFile)}, dtype=np.float64).reshape(${dim}, ${k})
captured = float(np.sum(((X - p.mean_) @ V) ** 2) / (${rows} - 1) / p.explained_variance_.sum())
print(json.dumps({'seconds': seconds, 'components': p.components_.tolist(), 'blas': blas, 'captured': captured}))
`;
  // Debian's numpy is slowed by the OPENBLAS_* overrides this machine sets for older builds.
  const env = { ...process.env };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  return JSON.parse(execFileSync(python, ['-c', script], { encoding: 'utf8', env, maxBuffer: 1 << 28 }));
}

async function smkit(x: Float32Array, dim: number, k: number, mode: PcaMode, batch: number) {
  const started = performance.now();
  const kernel = await createOnnxKernel(dim);
  const accumulator = new PcaAccumulator({
    mode,
    dim,
    subtractMean: true,
    sketchRows: k + Math.max(10, k),
    seed: 1,
    kernel,
  });
  const rows = x.length / dim;
  for (let r = 0; r < rows; r += batch) {
    const end = Math.min(rows, r + batch);
    await accumulator.add(x.subarray(r * dim, end * dim), end - r);
  }
  const model = solvePca(await accumulator.finish(), k);
  await kernel.close();
  return { seconds: (performance.now() - started) / 1000, model };
}

/** |cos| between smkit's component c (ascending order) and sklearn's (descending). */
function agreement(v: Float64Array, dim: number, k: number, theirs: number[][]): number[] {
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
    return Math.abs(dot) / Math.sqrt(a * b);
  });
}

async function run(name: string, mode: PcaMode, solver: string, rows: number, dim: number) {
  const k = Number(args.components);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smkit-bench-pca-'));
  try {
    const x = makeData(rows, dim, Math.min(dim, 12), 42);
    const file = path.join(dir, 'x.f32');
    writeFileSync(file, x);
    // Warm-up outside the timing (loads onnxruntime's native library, JIT), as sklearn's imports are.
    await smkit(x.subarray(0, Math.min(rows, 2000) * dim), dim, k, mode, Number(args.batch));
    const ours = await smkit(x, dim, k, mode, Number(args.batch));
    const componentsFile = path.join(dir, 'v.f64');
    writeFileSync(componentsFile, ours.model.v);
    const theirs = sklearn(args.python!, file, componentsFile, rows, dim, k, solver);
    const cosines = agreement(ours.model.v, dim, k, theirs.components);
    const result = {
      name,
      rows,
      dim,
      components: k,
      smkit_seconds: Number(ours.seconds.toFixed(4)),
      sklearn_seconds: Number(theirs.seconds.toFixed(4)),
      ratio: Number((theirs.seconds / ours.seconds).toFixed(2)),
      sklearn_solver: solver,
      sklearn_blas: theirs.blas,
      min_abs_cosine_vs_sklearn: Number(Math.min(...cosines).toFixed(6)),
      top_component_abs_cosine: Number(cosines[0]!.toFixed(6)),
      captured_variance_vs_sklearn: Number(theirs.captured.toFixed(6)),
    };
    console.log(
      `${name}: ${rows} x ${dim}, ${k} components: smkit ${result.smkit_seconds} s, sklearn ${result.sklearn_seconds} s ` +
        `-> smkit ${result.ratio}x as fast; |cos| top component ${result.top_component_abs_cosine}, min ${result.min_abs_cosine_vs_sklearn}; ` +
        `variance captured vs sklearn ${result.captured_variance_vs_sklearn}`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [
  await run('regular', 'regular', 'full', Number(args.rows), Number(args.dim)),
  await run('randomized', 'randomized', 'randomized', Number(args['rand-rows']), Number(args['rand-dim'])),
];
// Relative to the working directory: `npm run bench:pca` runs from the repository root.
const out = path.resolve(args.out ?? 'bench/results/pca.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ benchmark: 'pca', date: new Date().toISOString(), cpus: os.availableParallelism(), results }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
