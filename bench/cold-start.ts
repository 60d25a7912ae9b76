/**
 * Cold start of the smkit image: from `docker start` of a created serving container to the first
 * 200 on /ping, for a k-means model_algo-1 and an ONNX model (written by Debian's python3-onnx),
 * against a peer in the same run: the same image starting a bare node:http server. Also the image
 * size and the layers above the base (budget 150 MB). `docker create` time is reported apart: on
 * the vfs storage driver it copies the whole image, which overlay2 (SageMaker's hosts) does not.
 * Writes bench/results/cold-start.json.
 *
 * Usage: npm run build && node dist/bench/cold-start.js [--runs 3] [--image smkit:system-test]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSmkitImage, docker, layersAboveBase } from '../scripts/docker-image.js';
import { encodeNDArrayList } from '../src/io/mxnet-ndarray.js';
import { freePort } from '../src/util/net.js';
import { median } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const RUNS = Number(option('runs', '3'));
const IMAGE = option('image', 'smkit:system-test');
const BASE = `smkit-base:node24-bookworm-${os.arch() === 'arm64' ? 'arm64' : 'amd64'}`;
const GOAL_MS = 2000;
const BUDGET_BYTES = 150 * 1024 * 1024;

/** Milliseconds from `docker start` to the first 200 on GET /ping (polled every 10 ms). */
async function startToFirstPing(id: string, port: number): Promise<number> {
  const started = performance.now();
  await docker('start', id);
  for (;;) {
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
      if (reply.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 240_000) throw new Error(`${id}: no 200 on /ping within 240 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Sample {
  readonly createMs: number;
  readonly coldStartMs: number;
}

/** Creates, starts and measures one serving container; `extra` are docker create options/command. */
async function sample(create: (port: number) => string[]): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const id = (await docker('create', '--network', 'host', ...create(port))).trim();
  const createMs = performance.now() - t0;
  try {
    return { createMs, coldStartMs: await startToFirstPing(id, port) };
  } finally {
    await docker('rm', '-f', '-v', id);
  }
}

async function main(): Promise<void> {
  await buildSmkitImage({ root: repo, tag: IMAGE, baseTag: BASE });
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-cold-'));
  try {
    const kmeans = path.join(work, 'kmeans');
    await mkdir(kmeans);
    const centroids = Float32Array.from({ length: 10 * 50 }, (_, i) => (i * 7919) % 101);
    await writeFile(
      path.join(kmeans, 'model_algo-1'),
      encodeNDArrayList({ arrays: [{ shape: [10, 50], data: centroids }], names: [] }),
    );
    execFileSync('/usr/bin/python3', [
      path.join(repo, 'test/fixtures/make-onnx.py'),
      path.join(work, 'onnx'),
    ]);
    const onnx = path.join(work, 'onnx', 'mlp');

    const serve =
      (model: string, env: string[] = []) =>
      (port: number) => [
        ...env,
        '-v',
        `${model}:/opt/ml/model:ro`,
        '-e',
        `SAGEMAKER_BIND_TO_PORT=${port}`,
        IMAGE,
        'serve',
      ];
    const bare = (port: number) => [
      '--entrypoint',
      'node',
      IMAGE,
      '-e',
      `require('node:http').createServer((q, s) => s.end()).listen(${port}, '127.0.0.1')`,
    ];
    // One serving process instead of one per CPU (node:cluster): how much of the start is the fork.
    const oneWorker = ['-e', 'SAGEMAKER_MODEL_SERVER_WORKERS=1'];
    // The image's build-time bytecode cache off (scripts/warm-compile-cache.mjs): what it saves.
    const noCompileCache = ['-e', 'NODE_DISABLE_COMPILE_CACHE=1'];
    const cases = {
      kmeans: serve(kmeans),
      onnx: serve(onnx),
      kmeansOneWorker: serve(kmeans, oneWorker),
      kmeansNoCompileCache: serve(kmeans, noCompileCache),
      bareNodeHttp: bare,
    } as const;
    const results: Record<string, { coldStartMs: number; createMs: number; samples: Sample[] }> = {};
    for (const [name, create] of Object.entries(cases)) {
      process.stdout.write(`${name}: ${RUNS} run(s)\n`);
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await sample(create));
      results[name] = {
        coldStartMs: Math.round(median(samples.map((s) => s.coldStartMs))),
        createMs: Math.round(median(samples.map((s) => s.createMs))),
        samples,
      };
      console.log(
        `${name.padEnd(13)} start -> first 200 on /ping: ${results[name].coldStartMs} ms (median of ${RUNS}); docker create ${results[name].createMs} ms`,
      );
    }
    const imageBytes = Number((await docker('image', 'inspect', '--format', '{{.Size}}', IMAGE)).trim());
    const aboveBase = await layersAboveBase(IMAGE, BASE);
    const bareMs = results.bareNodeHttp!.coldStartMs;
    const report = {
      image: IMAGE,
      base: BASE,
      imageMB: +(imageBytes / 1e6).toFixed(1),
      layersAboveBaseMB: +(aboveBase / 1e6).toFixed(1),
      withinBudget: aboveBase <= BUDGET_BYTES,
      runs: RUNS,
      goalMs: GOAL_MS,
      kmeans: results.kmeans,
      onnx: results.onnx,
      kmeansOneWorker: results.kmeansOneWorker,
      kmeansNoCompileCache: results.kmeansNoCompileCache,
      bareNodeHttp: results.bareNodeHttp,
      ratioToBareNode: {
        kmeans: +(results.kmeans!.coldStartMs / bareMs).toFixed(2),
        onnx: +(results.onnx!.coldStartMs / bareMs).toFixed(2),
        kmeansOneWorker: +(results.kmeansOneWorker!.coldStartMs / bareMs).toFixed(2),
        kmeansNoCompileCache: +(results.kmeansNoCompileCache!.coldStartMs / bareMs).toFixed(2),
      },
      underGoal: results.kmeans!.coldStartMs < GOAL_MS && results.onnx!.coldStartMs < GOAL_MS,
      loadAverage: os.loadavg().map((n) => +n.toFixed(1)),
    };
    console.log(
      `image ${report.imageMB} MB, ${report.layersAboveBaseMB} MB above the base (budget 150 MB: ${report.withinBudget ? 'ok' : 'OVER'}); ` +
        `cold start vs bare node:http: k-means x${report.ratioToBareNode.kmeans}, ONNX x${report.ratioToBareNode.onnx}`,
    );
    await mkdir(path.join(repo, 'bench/results'), { recursive: true });
    await writeFile(path.join(repo, 'bench/results/cold-start.json'), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
