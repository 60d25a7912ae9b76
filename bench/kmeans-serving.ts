/**
 * What the serving benchmarks share (bench/serve.ts, bench/transform.ts, bench/sweep.ts): the k-means
 * model (d=50, k=10, fitted once by scikit-learn on deterministic data), the sklearn BYOC peer, wrk, and
 * CPU and memory accounting of a server's process tree from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNDArrayList } from '../src/io/mxnet-ndarray.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, from sources (tsx) or from dist/. */
export const repo = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

/** A numeric `--name value` flag, or `fallback`. */
export function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** A string `--name value` flag, or `fallback`. */
export function stringOption(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? String(process.argv[at + 1]) : fallback;
}

export const DIM = 50;
export const K = 10;
export const TRAIN_ROWS = 20_000;

/** A deterministic generator of uniform numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Deterministic data: 10 Gaussian-ish blobs in 50 dimensions. */
export function makeRows(count: number, seed: number): number[][] {
  const random = lcg(seed);
  const centers = Array.from({ length: K }, () => Array.from({ length: DIM }, () => random() * 20 - 10));
  return Array.from({ length: count }, () => {
    const c = centers[Math.floor(random() * K)]!;
    return c.map((v) => Number((v + (random() + random() + random() - 1.5) * 2).toFixed(4)));
  });
}

/** Rows as CSV lines, each ending in `\n`. */
export const csv = (rows: number[][]) => `${rows.map((r) => r.join(',')).join('\n')}\n`;

const FIT = `
import sys, numpy as np
from sklearn.cluster import KMeans
X = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
m = KMeans(n_clusters=int(sys.argv[2]), n_init=1, random_state=0).fit(X)
np.savetxt(sys.stdout, m.cluster_centers_, delimiter=",", fmt="%.9g")
`;

/** The fitted model's files under `work`. */
export interface KmeansModel {
  /** The training data (the peer fits its own copy of the model from it). */
  readonly trainCsv: string;
  /** The centroids, one CSV line each (for bench/bare-server.ts). */
  readonly centroidsCsv: string;
  readonly centroids: Float32Array;
  /** `work`/model, holding model_algo-1 as SageMaker's k-means writes it: `SAGEMAKER_BASE_DIR` is `work`. */
  readonly modelDir: string;
}

/** Fits k-means (d=50, k=10) with scikit-learn on `TRAIN_ROWS` deterministic rows; writes it under `work`. */
export async function fitKmeansModel(work: string): Promise<KmeansModel> {
  const trainCsv = path.join(work, 'train.csv');
  await writeFile(trainCsv, csv(makeRows(TRAIN_ROWS, 1)));
  const centroidsText = execFileSync('/usr/bin/python3', ['-c', FIT, trainCsv, String(K)], {
    encoding: 'utf8',
  });
  const centroidsCsv = path.join(work, 'centroids.csv');
  await writeFile(centroidsCsv, centroidsText);
  const centroids = Float32Array.from(centroidsText.trim().split(/[\n,]/).map(Number));
  const modelDir = path.join(work, 'model');
  await mkdir(modelDir, { recursive: true });
  await writeFile(
    path.join(modelDir, 'model_algo-1'),
    encodeNDArrayList({ arrays: [{ shape: [K, DIM], data: centroids }], names: [] }),
  );
  return { trainCsv, centroidsCsv, centroids, modelDir };
}

/** One wrk run's numbers. */
export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly requests: number;
}

function ms(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

function parseWrk(output: string): WrkResult {
  const line = (label: string) => new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '';
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0),
    p50Ms: ms(line('50%')),
    p99Ms: ms(line('99%')),
    errors: non2xx + socketErrors,
    requests,
  };
}

/**
 * Runs wrk against `url` (with a Lua `script` for POST bodies) and parses its latency report. wrk drops
 * answers slower than `timeoutSeconds` (its default is 2 s) from the latencies and counts them as errors.
 */
export function wrk(
  url: string,
  script: string | undefined,
  connections: number,
  seconds: number,
  timeoutSeconds = 2,
): Promise<WrkResult> {
  const args = [
    '--timeout',
    `${timeoutSeconds}s`,
    '-t',
    connections > 1 ? '2' : '1',
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '--latency',
  ];
  if (script) args.push('-s', script);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(parseWrk(output)) : reject(new Error(`wrk exited ${code}`)),
    );
  });
}

/** Writes a wrk Lua script that POSTs `bodyFile` with `contentType`. */
export async function wrkPostScript(
  script: string,
  bodyFile: string,
  contentType = 'text/csv',
): Promise<string> {
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "${contentType}"\n` +
      `local f = io.open("${bodyFile}", "rb")\nwrk.body = f:read("*a")\nf:close()\n`,
  );
  return script;
}

/** utime + stime (clock ticks), resident pages and parent pid of a process, from /proc. */
function procStat(pid: number): { ticks: number; ppid: number; rssPages: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      rssPages: Number(fields[21]),
    };
  } catch {
    return undefined;
  }
}

/** Processes `roots` and all their descendants. */
export function processTree(roots: readonly number[]): Set<number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** CPU seconds used so far by processes `roots` and all their descendants. */
export function treeCpuSeconds(roots: readonly number[]): number {
  let ticks = 0;
  for (const pid of processTree(roots)) ticks += procStat(pid)?.ticks ?? 0;
  return ticks / 100;
}

/** Resident bytes of processes `roots` and all their descendants, now. */
export function treeRssBytes(roots: readonly number[]): number {
  let pages = 0;
  for (const pid of processTree(roots)) pages += procStat(pid)?.rssPages ?? 0;
  return pages * 4096;
}

/** Waits until `port` answers GET /ping with 200 (30 s at most). */
export async function waitForPing(port: number, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/ping`);
      if (reply.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer /ping on port ${port}`);
}

function peerDir(): string {
  const dir = path.resolve(repo, '../shared/peers/sklearn-byoc');
  if (existsSync(path.join(dir, 'start.sh'))) return dir;
  throw new Error('the sklearn BYOC peer (../shared/peers/sklearn-byoc) was not found');
}

/** The sklearn BYOC peer (nginx -> gunicorn/gevent -> Flask + pandas), fitted on `trainCsv`. */
export interface Peer {
  /** Its main processes (gunicorn master, nginx master): account CPU and memory with their trees. */
  readonly pids: number[];
  stop(): void;
}

/** Starts the peer on `port` with `workers` gunicorn workers and waits for its /ping. */
export async function startPeer(trainCsv: string, port: number, workers: number): Promise<Peer> {
  const peer = peerDir();
  execFileSync('bash', [path.join(peer, 'start.sh'), trainCsv, String(K)], {
    env: { ...process.env, PEER_PORT: String(port), PEER_WORKERS: String(workers) },
    stdio: 'inherit',
  });
  const stop = () => execFileSync('bash', [path.join(peer, 'stop.sh')]);
  try {
    await waitForPing(port, 'the sklearn peer');
  } catch (error) {
    stop();
    throw error;
  }
  return {
    pids: ['gunicorn.pid', 'nginx.pid.main'].map((f) =>
      Number(readFileSync(path.join('/tmp/sk-peer', f), 'utf8')),
    ),
    stop,
  };
}

/** Starts `smkit serve` (from `root`'s bin/smkit) for the model in `base`/model on `port`. */
export function startSmkitServe(
  root: string,
  base: string,
  port: number,
  workers: number,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [path.join(root, 'bin', 'smkit'), 'serve'], {
    env: {
      ...process.env,
      SAGEMAKER_BASE_DIR: base,
      SAGEMAKER_BIND_TO_PORT: String(port),
      SAGEMAKER_MODEL_SERVER_WORKERS: String(workers),
      SAGEMAKER_CONTAINER_LOG_LEVEL: '30',
      ...env,
    },
    stdio: 'inherit',
  });
}
