import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bundleWorkerEntries } from '../../../src/io/worker-bundle.js';
import { WasmGram, compileGram } from './wasm-gram.js';

/** Below this many rows a chunk is not split: the message round trip would cost more than it saves. */
const SPLIT_ROWS = 2048;

let bundled: Promise<string> | undefined;

/** The worker module; from sources (tests, tsx) bundled once per process, as Node 20 workers load no TypeScript. */
function workerFile(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const worker = path.join(path.dirname(here), `gram-worker${path.extname(here)}`);
  if (!worker.endsWith('.ts')) return Promise.resolve(worker);
  bundled ??= (async () => {
    const outdir = await bundleWorkerEntries({ 'gram-worker': worker }, 'pca-gram');
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return path.join(outdir, 'gram-worker.mjs');
  })();
  return bundled;
}

/** A worker holding one Gram module; `run` sends it rows and resolves with their Gram matrix and sums. */
class GramWorker {
  private pending:
    | { resolve(value: { gram: Float64Array; sums: Float64Array }): void; reject(e: Error): void }
    | undefined;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (answer: { gram: Float64Array; sums: Float64Array }) =>
      this.settle()?.resolve(answer),
    );
    worker.on('error', (error) => this.settle()?.reject(error));
    worker.on('exit', (code) => this.settle()?.reject(new Error(`the PCA Gram worker exited (${code})`)));
  }

  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    // Unreferenced while idle: a kernel left open does not keep the process alive.
    this.worker.unref();
    return pending;
  }

  run(
    x: Float32Array<ArrayBuffer>,
    rows: number,
    shift: Float32Array,
  ): Promise<{ gram: Float64Array; sums: Float64Array }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ x, rows, shift }, [x.buffer]);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * The Gram matrix of a chunk on `threads` threads: the first rows go to `threads - 1` worker threads
 * (each its own copy of the WebAssembly module, started on the first large chunk), the rest run on
 * the calling thread meanwhile. The split is fixed by the row count, so results are reproducible.
 */
export class GramThreads {
  private readonly local: WasmGram;
  private workers: Promise<GramWorker[]> | undefined;

  constructor(
    private readonly dim: number,
    private readonly threads: number,
  ) {
    const { layout, module } = compileGram(dim);
    this.local = new WasmGram(layout, module);
  }

  private start(): Promise<GramWorker[]> {
    this.workers ??= workerFile().then((file) =>
      Array.from(
        { length: this.threads - 1 },
        () => new GramWorker(new Worker(file, { workerData: { dim: this.dim }, execArgv: [] })),
      ),
    );
    return this.workers;
  }

  /** gram += (X - shift)^T (X - shift) (both triangles); sums += column sums of X - shift. */
  async add(x: Float32Array, rows: number, shift: Float32Array, gram: Float64Array, sums: Float64Array) {
    const d = this.dim;
    if (this.threads < 2 || rows < SPLIT_ROWS) {
      this.local.add(x, rows, shift, gram, sums);
      return;
    }
    const workers = await this.start();
    const share = Math.floor(rows / this.threads);
    const answers = workers.map((worker, k) =>
      worker.run(x.slice(k * share * d, (k + 1) * share * d), share, shift.slice()),
    );
    const mine = workers.length * share;
    this.local.add(x.subarray(mine * d, rows * d), rows - mine, shift, gram, sums);
    for (const answer of await Promise.all(answers)) {
      for (let i = 0; i < answer.gram.length; i++) gram[i]! += answer.gram[i]!;
      for (let i = 0; i < d; i++) sums[i]! += answer.sums[i]!;
    }
  }

  async close(): Promise<void> {
    const workers = await this.workers;
    await Promise.all((workers ?? []).map((w) => w.terminate()));
  }
}
