/** Serves a model directory through the front door: detection registry, loaders and the HTTP app. */
import { loadModel } from '../../../src/serve/kinds/kind.js';
import { defaultModelKinds as kinds } from '../../../src/serve/kinds/index.js';
import { withWorkerPool } from '../../../src/serve/pool.js';
import { quietLog, settingsFrom, startApp, type TestServer } from '../helpers.js';

/**
 * Starts the app on `modelDir` (env as SAGEMAKER_* variables) and waits for the load. With
 * `poolMinBytes`, bodies of that size or more run on a one-thread worker pool, as `smkit serve` runs
 * large ones; the thread's model copy is loaded before this returns.
 */
export async function serveModel(
  modelDir: string,
  env: Record<string, string> = {},
  options: { poolMinBytes?: number } = {},
): Promise<TestServer> {
  const settings = settingsFrom(env);
  const context = { settings, log: quietLog, kinds };
  const server = await startApp({
    settings,
    loadHandler: async () => {
      const inline = await loadModel(modelDir, context);
      if (options.poolMinBytes === undefined) return inline;
      const pooled = await withWorkerPool(inline, {
        settings,
        threads: 1,
        minBytes: options.poolMinBytes,
      });
      if (!(await pooled.threadsReady)) throw new Error(`the worker thread could not load ${modelDir}`);
      return pooled;
    },
  });
  await server.app.loaded;
  return server;
}
