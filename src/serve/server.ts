import { resolvePaths, type ServingSettings, toWireBatchStrategy } from '../contract/index.js';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { detectModelKind, type LoadContext } from './detect.js';
import type { ModelHandler } from './handler.js';
import { runServer } from './listen.js';

/**
 * Detects and loads the model in `modelDir`; kinds that allow it get a worker-thread pool for large
 * requests (`pool.ts`).
 */
export async function loadServingModel(modelDir: string, context: LoadContext): Promise<ModelHandler> {
  const kind = await detectModelKind(modelDir, context);
  context.log.info({ kind: kind.name, modelDir }, 'loading model');
  const handler = await kind.load(modelDir, context);
  if (!kind.offThread) return handler;
  const { withWorkerPool } = await import('./pool.js');
  return withWorkerPool(handler, { modelDir, settings: context.settings, log: context.log });
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
  const modelDir = resolvePaths(settings.baseDir).model;
  if (settings.batch)
    log.info(
      { strategy: toWireBatchStrategy(settings.batchStrategy ?? 'MultiRecord') },
      'batch transform mode',
    );
  await runServer({
    port: settings.port,
    workers: settings.workers,
    log,
    // Imported here, in the serving processes only: a node:cluster primary just forks and supervises, and
    // must not spend the cold start loading the HTTP stack and the model kinds before its first fork.
    createApp: async () => {
      const [{ createApp }, { registerModelKinds }] = await Promise.all([
        import('./app.js'),
        import('./model-kinds.js'),
      ]);
      registerModelKinds();
      return createApp({
        loadHandler: () => loadServingModel(modelDir, { settings, log }),
        settings,
        log,
      });
    },
  });
}
