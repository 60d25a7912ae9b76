import { resolvePaths, type ServingSettings } from '../contract/index.js';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { createApp } from './app.js';
import { detectModelKind, type LoadContext } from './detect.js';
import type { ModelHandler } from './handler.js';
import { runServer, whenEveryWorkerLoaded } from './listen.js';
import { registerModelKinds } from './model-kinds.js';
import { withWorkerPool } from './pool.js';

/**
 * Detects and loads the model in `modelDir`; kinds that allow it get a worker-thread pool for large
 * requests (`pool.ts`).
 */
export async function loadServingModel(modelDir: string, context: LoadContext): Promise<ModelHandler> {
  const kind = await detectModelKind(modelDir, context);
  context.log.info({ kind: kind.name, modelDir }, 'loading model');
  const handler = await kind.load(modelDir, context);
  return kind.offThread
    ? withWorkerPool(handler, { modelDir, settings: context.settings, log: context.log })
    : handler;
}

/**
 * `smkit serve`: serves the model in `<base>/model` on the configured port with the configured number
 * of processes until SIGTERM. Each process loads its own copy of the model; /ping says 503 until it has.
 */
export async function serve(settings: ServingSettings, log: Logger): Promise<void> {
  if (settings.multiModel) {
    throw new InputError(
      'SAGEMAKER_MULTI_MODEL=true: multi-model endpoints are not supported by smkit serve',
    );
  }
  registerModelKinds();
  const modelDir = resolvePaths(settings.baseDir).model;
  if (settings.batch)
    log.info({ strategy: settings.batchStrategy ?? 'MULTI_RECORD' }, 'batch transform mode');
  await runServer({
    port: settings.port,
    workers: settings.workers,
    log,
    createApp: () =>
      createApp({
        loadHandler: async () => whenEveryWorkerLoaded(await loadServingModel(modelDir, { settings, log })),
        settings,
        log,
      }),
  });
}
