import { rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { ServingSettings } from '../contract/index.js';
import { HttpError } from '../util/errors.js';
import type { InvocationRequest, ModelHandler } from './handler.js';
import type { PoolResult, PoolTask } from './pool-worker.js';

/** Options of `withWorkerPool`. */
export interface WorkerPoolOptions {
  readonly modelDir: string;
  readonly settings: ServingSettings;
  /** Worker threads in this process (default: cores / serving processes, at least 1). */
  readonly threads?: number;
  /**
   * Bodies of at least this many bytes run on a worker thread; smaller ones inline, where a thread hop
   * costs more than the work (default 64 KiB: a single CSV row stays inline, a 1,000-row batch moves).
   */
  readonly minBytes?: number;
}

/** Bodies at or above this size leave the HTTP thread by default. */
export const DEFAULT_POOL_MIN_BYTES = 64 * 1024;

/**
 * The worker module. From sources (tests, tsx) Node 20 worker threads get no TypeScript loader, so the
 * worker is bundled with esbuild (a dependency of tsx) into node_modules/.cache first.
 */
async function workerFile(): Promise<{ filename: string; cleanup?: string }> {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith('.ts')) return { filename: new URL('./pool-worker.js', here).href };
  const outfile = fileURLToPath(
    new URL(`../../node_modules/.cache/smkit/pool-worker-${process.pid}-${++bundles}.mjs`, here),
  );
  const { build } = await import('esbuild');
  await build({
    entryPoints: [fileURLToPath(new URL('./pool-worker.ts', here))],
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outfile,
    logLevel: 'silent',
  });
  return { filename: pathToFileURL(outfile).href, cleanup: outfile };
}

let bundles = 0;

/**
 * Serves large invocations on a piscina pool of worker threads, each with its own copy of the model, so
 * the HTTP thread keeps answering /ping and small requests while big batches compute (onnxruntime's
 * `run()` and long JS loops block the thread they run on). Small bodies stay on `inline`.
 */
export async function withWorkerPool(
  inline: ModelHandler,
  options: WorkerPoolOptions,
): Promise<ModelHandler> {
  const threads =
    options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / options.settings.workers));
  const minBytes = options.minBytes ?? DEFAULT_POOL_MIN_BYTES;
  const worker = await workerFile();
  const pool = new Piscina<PoolTask, PoolResult>({
    filename: worker.filename,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return {
    kind: inline.kind,
    async invoke(request: InvocationRequest) {
      if (request.body.length < minBytes) return inline.invoke(request);
      const result = await pool.run(
        {
          modelDir: options.modelDir,
          settings: options.settings,
          body: request.body,
          contentType: request.contentType,
          accept: request.accept,
          customAttributes: request.customAttributes,
          requestId: request.requestId,
        },
        { signal: request.signal },
      );
      if ('ok' in result) return result.ok;
      if ('status' in result) throw new HttpError(result.status, result.message);
      throw new Error(`worker thread: ${result.fault}`);
    },
    async close() {
      await pool.destroy();
      if (worker.cleanup) await rm(worker.cleanup, { force: true });
      await inline.close?.();
    },
  };
}
