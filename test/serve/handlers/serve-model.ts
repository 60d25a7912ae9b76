/** Serves a model directory through the front door: detection registry, loaders and the HTTP app. */
import { loadModel } from '../../../src/serve/detect.js';
import { registerModelKinds } from '../../../src/serve/model-kinds.js';
import { loadServingModel } from '../../../src/serve/server.js';
import { quietLog, settingsFrom, startApp, type TestServer } from '../helpers.js';

/**
 * Starts the app on `modelDir` (env as SAGEMAKER_* variables) and waits for the load. `pool: true` loads
 * as `smkit serve` does, with the worker-thread pool for kinds that use it.
 */
export async function serveModel(
  modelDir: string,
  env: Record<string, string> = {},
  options: { pool?: boolean } = {},
): Promise<TestServer> {
  registerModelKinds();
  const settings = settingsFrom(env);
  const load = options.pool ? loadServingModel : loadModel;
  const server = await startApp({ settings, loadHandler: () => load(modelDir, { settings, log: quietLog }) });
  await server.app.loaded;
  return server;
}
