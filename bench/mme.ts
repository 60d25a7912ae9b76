/**
 * Multi-model benchmark (issue 11): one `smkit serve` with SAGEMAKER_MULTI_MODEL=true holding 1,000
 * k-means models and 100 small ONNX models, invoked in a Zipf order by concurrent clients, against the
 * reference servers' architecture (one single-model process per model; a few are started and their
 * RSS extrapolated). Prints models per GB of RSS, load time per model, p50/p99 for hot and cold
 * models; writes bench/results/mme.json with the machine's load average (other sessions share it).
 *
 * Usage: npm run build && node dist/bench/mme.js [--kmeans 1000] [--onnx 100] [--invokes 20000]
 *   [--concurrency 8] [--singles 4] [--cold 100] [--smkit PATH/bin/smkit] [--out FILE]
 * `--smkit` serves with another checkout's build (a before/after run); `--out` writes the result
 * elsewhere than bench/results/mme.json (a quick or noisy run must not overwrite the committed one).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from '../src/io/http-client.js';
import { encodeNDArrayList } from '../src/io/mxnet-ndarray.js';
import { attr, OnnxGraphBuilder } from '../src/io/onnx-builder.js';
import { freePort } from '../src/util/net.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const KMEANS = option('kmeans', 1000);
const ONNX = option('onnx', 100);
const INVOKES = option('invokes', 20_000);
const CONCURRENCY = option('concurrency', 8);
const SINGLES = option('singles', 4);
const COLD = option('cold', 100);
function text(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
}
const SMKIT = path.resolve(text('smkit', path.join(repo, 'bin/smkit')));
const OUT = path.resolve(text('out', path.join(repo, 'bench/results/mme.json')));
const ROW = '1.5,16.0,14.0,23.0';

function kmeansFile(seed: number): Buffer {
  const centroids = Float32Array.from({ length: 12 }, (_, i) => ((i * 7 + seed) % 13) + (i % 4));
  return encodeNDArrayList({ arrays: [{ shape: [3, 4], data: centroids }], names: [] });
}

function onnxFile(seed: number): Uint8Array {
  const g = new OnnxGraphBuilder('scorer');
  const x = g.input('x', 'float32', ['N', 4]);
  const w = g.constant(
    'w',
    [1, 0, 0, 1, 0, 1, 1, 0].map((v) => v * (1 + seed / 100)),
    [4, 2],
  );
  const b = g.constant('b', [0.5, -0.5], [2]);
  const y = g.op('Add', [g.op('MatMul', [x, w]), b]);
  g.output(g.op('Softmax', [y], { axis: attr.int(1) }), 'float32', ['N', 2], 'p');
  return g.build();
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** User + system CPU time of a process (all its threads), in ms, from /proc/PID/stat. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

const threadsOf = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

async function startServer(
  base: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [SMKIT, 'serve'], {
    env: {
      ...process.env,
      SAGEMAKER_BASE_DIR: base,
      SAGEMAKER_BIND_TO_PORT: String(port),
      SAGEMAKER_MODEL_SERVER_WORKERS: '1',
      SAGEMAKER_CONTAINER_LOG_LEVEL: '40',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const status = await send(`${url}/ping`, { timeoutMs: 2000 }).then(
      (a) => a.status,
      () => 0,
    );
    if (status === 200) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const round = (v: number, digits = 2) => Number(v.toFixed(digits));

/** Zipf(s=1.1) over n ranks, deterministic. */
function zipfSampler(n: number, seed: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** 1.1);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) {
    sum += w / total;
    cumulative.push(sum);
  }
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = state / 2 ** 32;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function timed(fn: () => Promise<{ status: number }>): Promise<number> {
  const started = performance.now();
  const answer = await fn();
  if (answer.status !== 200) throw new Error(`status ${answer.status}`);
  return performance.now() - started;
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const invoke = (url: string, name?: string) =>
  send(name ? `${url}/models/${name}/invoke` : `${url}/invocations`, {
    method: 'POST',
    body: Buffer.from(ROW),
    headers: { 'content-type': 'text/csv' },
  });

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-bench-mme-'));
  const names: string[] = [];
  for (let i = 0; i < KMEANS; i++) names.push(`kmeans-${i}`);
  for (let i = 0; i < ONNX; i++) names.push(`onnx-${i}`);
  const modelDir = (name: string) => path.join(work, 'models', name, 'model');
  for (const [i, name] of names.entries()) {
    await mkdir(modelDir(name), { recursive: true });
    if (name.startsWith('kmeans')) await writeFile(path.join(modelDir(name), 'model_algo-1'), kmeansFile(i));
    else await writeFile(path.join(modelDir(name), 'model.onnx'), onnxFile(i));
  }
  const loadAvgBefore = os.loadavg();

  // Multi-model: one process.
  const mme = await startServer(work, { SAGEMAKER_MULTI_MODEL: 'true', SMKIT_MULTI_MODEL_MEMORY_MB: '4096' });
  const rssEmpty = rssOf(mme.child.pid!);
  const threadsEmpty = threadsOf(mme.child.pid!);
  const cpuBeforeLoads = cpuMsOf(mme.child.pid!);
  const loadMs: Record<string, number[]> = { kmeans: [], onnx: [] };
  await pool(names, 4, async (name) => {
    const ms = await timed(() =>
      send(`${mme.url}/models`, {
        method: 'POST',
        body: Buffer.from(JSON.stringify({ model_name: name, url: modelDir(name) })),
        headers: { 'content-type': 'application/json' },
      }),
    );
    loadMs[name.startsWith('kmeans') ? 'kmeans' : 'onnx']!.push(ms);
  });
  const rssLoaded = rssOf(mme.child.pid!);
  const loadCpuMsPerModel = (cpuMsOf(mme.child.pid!) - cpuBeforeLoads) / names.length;
  const threadsLoaded = threadsOf(mme.child.pid!);
  // Zipf-ordered invocations under concurrent load (hot: every model is loaded).
  const sample = zipfSampler(names.length, 42);
  const order = Array.from({ length: INVOKES }, () => names[sample()]!);
  const hot: number[] = [];
  const hotStarted = performance.now();
  await pool(order, CONCURRENCY, async (name) => {
    hot.push(await timed(() => invoke(mme.url, name)));
  });
  const hotSeconds = (performance.now() - hotStarted) / 1000;
  // Cold: unload a model, then load + first invoke, while the other clients keep invoking.
  const cold: Record<string, number[]> = { kmeans: [], onnx: [] };
  const coldNames = [
    ...names.filter((n) => n.startsWith('kmeans')).slice(-COLD),
    ...names.filter((n) => n.startsWith('onnx')).slice(-Math.min(COLD, ONNX) / 2),
  ];
  let background = true;
  const noise = pool(order, CONCURRENCY - 1, async (name) => {
    if (background) await invoke(mme.url, name);
  });
  for (const name of coldNames) {
    await send(`${mme.url}/models/${name}`, { method: 'DELETE' });
    const started = performance.now();
    await send(`${mme.url}/models`, {
      method: 'POST',
      body: Buffer.from(JSON.stringify({ model_name: name, url: modelDir(name) })),
      headers: { 'content-type': 'application/json' },
    });
    await invoke(mme.url, name);
    cold[name.startsWith('kmeans') ? 'kmeans' : 'onnx']!.push(performance.now() - started);
  }
  background = false;
  await noise;
  const rssFinal = rssOf(mme.child.pid!);
  const threadsFinal = threadsOf(mme.child.pid!);
  // Everything deleted: what the process holds without models.
  await pool(names, 4, async (name) => {
    await send(`${mme.url}/models/${name}`, { method: 'DELETE' });
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rssDeleted = rssOf(mme.child.pid!);
  const threadsDeleted = threadsOf(mme.child.pid!);
  mme.child.kill('SIGTERM');

  // Reference: one single-model process per model (SINGLES of them, RSS extrapolated).
  const singles: { child: ChildProcess; url: string }[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const base = path.join(work, `single-${i}`);
    await mkdir(path.join(base, 'model'), { recursive: true });
    await writeFile(path.join(base, 'model', 'model_algo-1'), kmeansFile(i));
    singles.push(await startServer(base, {}));
  }
  const singleOrder = Array.from({ length: INVOKES }, () => singles[sample() % SINGLES]!.url);
  const singleHot: number[] = [];
  await pool(singleOrder, CONCURRENCY, async (url) => {
    singleHot.push(await timed(() => invoke(url)));
  });
  const singleRss = singles.map((s) => rssOf(s.child.pid!));
  for (const s of singles) s.child.kill('SIGTERM');
  const loadAvgAfter = os.loadavg();
  const coldKmeansP99 = quantile(cold.kmeans!, 0.99);

  const perModelRss = (rssLoaded - rssEmpty) / names.length;
  const result = {
    machine: {
      cpus: os.availableParallelism(),
      loadAvgBefore,
      loadAvgAfter,
      note: 'shared with other sessions',
    },
    models: { kmeans: KMEANS, onnx: ONNX },
    multiModel: {
      rssEmptyMiB: round(rssEmpty / 2 ** 20, 1),
      rssLoadedMiB: round(rssLoaded / 2 ** 20, 1),
      rssAfterColdMiB: round(rssFinal / 2 ** 20, 1),
      rssAfterDeletingAllMiB: round(rssDeleted / 2 ** 20, 1),
      threads: {
        empty: threadsEmpty,
        loaded: threadsLoaded,
        afterCold: threadsFinal,
        afterDeletingAll: threadsDeleted,
      },
      modelsPerGiBOfRss: Math.round(names.length / (rssLoaded / 2 ** 30)),
      modelsPerGiBOfAddedRss: Math.round(2 ** 30 / perModelRss),
      loadCpuMsPerModel: round(loadCpuMsPerModel),
      loadMsPerModel: {
        kmeansP50: round(quantile(loadMs.kmeans!, 0.5)),
        kmeansP99: round(quantile(loadMs.kmeans!, 0.99)),
        onnxP50: round(quantile(loadMs.onnx!, 0.5)),
        onnxP99: round(quantile(loadMs.onnx!, 0.99)),
      },
      hotMs: {
        p50: round(quantile(hot, 0.5)),
        p99: round(quantile(hot, 0.99)),
        rps: Math.round(INVOKES / hotSeconds),
      },
      coldMsLoadIncluded: {
        kmeansP50: round(quantile(cold.kmeans!, 0.5)),
        kmeansP99: round(quantile(cold.kmeans!, 0.99)),
        onnxP50: round(quantile(cold.onnx!, 0.5)),
        onnxP99: round(quantile(cold.onnx!, 0.99)),
      },
    },
    singleModelProcesses: {
      processes: SINGLES,
      rssPerProcessMiB: round(singleRss.reduce((a, b) => a + b, 0) / SINGLES / 2 ** 20, 1),
      modelsPerGiBOfRss: round(2 ** 30 / (singleRss.reduce((a, b) => a + b, 0) / SINGLES), 1),
      hotMs: { p50: round(quantile(singleHot, 0.5)), p99: round(quantile(singleHot, 0.99)) },
    },
  };
  const ratio = result.multiModel.hotMs.p99 / result.singleModelProcesses.hotMs.p99;
  const goals = [
    `models per GiB of RSS: ${result.multiModel.modelsPerGiBOfRss} (goal >= 1000)`,
    `cold k-means p99, load included: ${round(coldKmeansP99)} ms (goal < 50)`,
    `hot p99 multi-model / single-model: ${ratio.toFixed(2)}x (goal <= 2)`,
    `RSS loaded -> after cold reloads -> all deleted: ${result.multiModel.rssLoadedMiB} -> ${result.multiModel.rssAfterColdMiB} -> ${result.multiModel.rssAfterDeletingAllMiB} MiB`,
  ];
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n${goals.join('\n')}\n`);
  await mkdir(path.dirname(OUT), { recursive: true });
  await writeFile(OUT, `${JSON.stringify({ ...result, hotP99Ratio: round(ratio) }, null, 2)}\n`);
  await rm(work, { recursive: true, force: true });
}

await main();
