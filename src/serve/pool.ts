import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { poolThreadsPerProcess, type ServingSettings } from '../contract/index.js';
import { bundleWorkerEntries } from '../io/worker-bundle.js';
import { HttpError, InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { InvocationRequest, ModelHandler, WorkerLoad } from './handler.js';
import type { PoolResult, PoolTask } from './pool-worker.js';

/** Options of `withWorkerPool`. */
export interface WorkerPoolOptions {
  /**
   * How each worker thread loads its copy of the model (default: the handler's `workerLoad`). It must
   * load the same model the handler serves: a worker answers large requests in the handler's place.
   */
  readonly worker?: WorkerLoad;
  readonly settings: ServingSettings;
  readonly log?: Logger;
  /**
   * Worker threads in this process (default: cores / serving processes, at least 1; one fewer, still at
   * least 1, with `inlineWhenBusy`, whose HTTP thread takes a core's share).
   */
  readonly threads?: number;
  /**
   * Bodies of at least this many bytes run on a worker thread; smaller ones inline, where a thread hop
   * and the message copies cost more than they save (default 1 MiB: on 2 cores a 1,000-row CSV batch of
   * 375 KB served 1.7x the requests/s inline, taking turns (see `turnstile.ts`), than through the pool).
   */
  readonly minBytes?: number;
  /**
   * Let the HTTP thread compute a large body itself when every worker thread is busy (default false).
   * For a batch transform's one serving process, whose only client is the transform and which SageMaker
   * pings only before the first mini-batch: the cores stay busy with one thread (one V8 isolate) less (on 2 cores the serving process peaked 20-35 MiB lower on 1 GB).
   */
  readonly inlineWhenBusy?: boolean;
}

/**
 * A model handler whose large requests run on worker threads (waiting for `threadsReady` when they come
 * before it), or all inline when `threadsReady` resolves false.
 */
export interface PooledModelHandler extends ModelHandler {
  /** True once every thread holds its model copy; false if a thread failed to load it (all inline). */
  readonly threadsReady: Promise<boolean>;
}

/**
 * Bodies at or above this size leave the HTTP thread by default. Chosen from `npm run bench:sweep`
 * (bench/results/sweep.json: the pool against inline-with-turns for 1 to 10,000-row CSV bodies); the
 * committed sweep ran on an overloaded machine and did not separate the routes, so 1 MiB stays until a
 * quiet re-run picks the smallest size from which the pool wins.
 */
export const DEFAULT_POOL_MIN_BYTES = 1024 * 1024;

/**
 * The worker module and the model loader module, importable by a worker thread. From sources (tests,
 * tsx) Node 20 worker threads get no TypeScript loader, so `.ts` modules are bundled with esbuild (a
 * dependency of tsx) into node_modules/.cache first, both in one build with shared chunks, so they share
 * one copy of smkit's error classes (a 4xx thrown by the model keeps its status). `cleanup` is the
 * directory to delete when the pool closes.
 */
async function workerModules(
  worker: string,
  loader: string,
): Promise<{ worker: string; loader: string; cleanup?: string }> {
  if (!worker.endsWith('.ts') && !loader.endsWith('.ts')) return { worker, loader };
  const outdir = await bundleWorkerEntries(
    { 'pool-worker': fileURLToPath(worker), loader: fileURLToPath(loader) },
    'pool',
  );
  return {
    worker: pathToFileURL(path.join(outdir, 'pool-worker.mjs')).href,
    loader: pathToFileURL(path.join(outdir, 'loader.mjs')).href,
    cleanup: outdir,
  };
}

/** This module's own extension: `.ts` from sources, `.js` once built. */
const EXT = path.extname(fileURLToPath(import.meta.url));

/**
 * Serves large invocations on a piscina pool of worker threads, each with its own copy of the model, so
 * the HTTP thread keeps answering /ping and small requests while big batches compute (long JS loops
 * block the thread they run on). Small bodies stay on `inline`. Each thread loads the model with
 * `options.worker` or `inline.workerLoad`; a handler with neither is refused, since a thread could not
 * know which model to answer with.
 */
export async function withWorkerPool(
  inline: ModelHandler,
  options: WorkerPoolOptions,
): Promise<PooledModelHandler> {
  const load = options.worker ?? inline.workerLoad;
  if (!load) {
    throw new InputError(
      `withWorkerPool: the ${inline.kind} handler does not say how a worker thread loads its model; ` +
        'set its workerLoad (or pass options.worker) to { module, exportName, modelDir }, or serve it without the pool',
    );
  }
  const threads =
    options.threads ??
    Math.max(1, poolThreadsPerProcess(options.settings) - (options.inlineWhenBusy ? 1 : 0));
  const minBytes = options.minBytes ?? DEFAULT_POOL_MIN_BYTES;
  let busyThreads = 0;
  const modules = await workerModules(new URL(`./pool-worker${EXT}`, import.meta.url).href, load.module);
  const pool = new Piscina<PoolTask, PoolResult>({
    filename: modules.worker,
    // Not the parent's flags: `--input-type`, `--eval` or loaders make no sense in a worker thread.
    execArgv: [],
    // A fixed set of threads, never recycled: onnxruntime-node aborts the whole process when it is loaded
    // a second time in a process, so a thread must never be replaced.
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const task = (request: Omit<InvocationRequest, 'signal'>, warm = false): PoolTask => ({
    load: { ...load, module: modules.loader },
    settings: options.settings,
    body: request.body,
    contentType: request.contentType,
    accept: request.accept,
    customAttributes: request.customAttributes,
    requestId: request.requestId,
    warm,
  });
  pool.on('error', (error: unknown) => {
    options.log?.error({ err: error }, 'a serving worker thread failed');
  });
  // The threads load their model copy in the background: /ping does not wait for them (the cold start is
  // what SageMaker and autoscaling wait on). A large body that comes sooner waits for them rather than
  // running inline: a model whose answer's last bits depended on which thread ran it (k-means did, while
  // the HTTP thread's assigner was onnxruntime and the threads' JS) made a batch transform, whose first
  // mini-batch comes as soon as /ping says 200, write a different first batch from run to run.
  let pooled = false;
  const warming = pool
    .run(
      task(
        {
          body: Buffer.alloc(0),
          contentType: undefined,
          accept: undefined,
          customAttributes: undefined,
          requestId: 'warm-up',
        },
        true,
      ),
    )
    .then((warmed) => {
      if ('fault' in warmed) throw new Error(warmed.fault);
      pooled = true;
      return true;
    })
    .catch((error: unknown) => {
      options.log?.error(
        { err: error },
        'the model failed to load on a worker thread: serving every request on the HTTP thread',
      );
      return false;
    });
  return {
    kind: inline.kind,
    threadsReady: warming,
    async invoke(request: InvocationRequest) {
      if (request.body.length < minBytes) return inline.invoke(request);
      // Inline only if a thread failed to load the model (then every request is).
      if (!pooled && !(await warming)) return inline.invoke(request);
      // With inlineWhenBusy, the HTTP thread is one of the computing threads.
      if (options.inlineWhenBusy && busyThreads >= threads) return inline.invoke(request);
      // No abort signal: piscina aborts a running task by terminating its thread (see above). A timed-out
      // or abandoned request just has its answer dropped by the app.
      // A body that owns its memory moves to the thread instead of being copied there (the HTTP thread
      // is done with it): one copy less of every large body, and no garbage for this thread's GC.
      const { body } = request;
      const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      busyThreads += 1;
      let result: PoolResult;
      try {
        result = await pool.run(task(request), owned ? { transferList: [body.buffer as ArrayBuffer] } : {});
      } finally {
        busyThreads -= 1;
      }
      if ('ok' in result) return result.ok;
      if ('warmed' in result) throw new Error('worker thread: unexpected warm-up answer');
      if ('status' in result) throw new HttpError(result.status, result.message);
      throw new Error(`worker thread: ${result.fault}`);
    },
    async close() {
      await warming;
      await pool.destroy();
      if (modules.cleanup) await rm(modules.cleanup, { recursive: true, force: true });
      await inline.close?.();
    },
  };
}
