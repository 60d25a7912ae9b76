/** Serves a model directory through the front door: detection registry, loaders and the HTTP app. */
import { loadModel } from '../../../src/serve/detect.js';
import { registerModelKinds } from '../../../src/serve/model-kinds.js';
import { quietLog, settingsFrom, startApp, type TestServer } from '../helpers.js';

/** Starts the app on `modelDir` as `smkit serve` would (env as SAGEMAKER_* variables) and waits for the load. */
export async function serveModel(modelDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  registerModelKinds();
  const settings = settingsFrom(env);
  const server = await startApp({
    settings,
    loadHandler: () => loadModel(modelDir, { settings, log: quietLog }),
  });
  await server.app.loaded;
  return server;
}
