import {
  readServingSettings,
  resolvePaths,
  type ServingSettings,
  toWireBatchStrategy,
} from '../contract/index.js';
import { InputError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/log.js';
import type { ModelHandler } from './handler.js';
import { loadModel, type ModelKind } from './kinds/kind.js';
import { runServer } from './listen.js';

/**
 * The size thresholds that route large bodies (`bench/sweep.ts` varies them; they are not a user
 * setting): `SMKIT_POOL_MIN_BYTES` (bodies that leave the HTTP thread, default `DEFAULT_POOL_MIN_BYTES`)
 * and `SMKIT_TURN_MIN_BYTES` (bodies that take turns, default `TURN_MIN_BYTES`). `Infinity` turns
 * either off.
 */
export function routingThresholds(env: NodeJS.ProcessEnv = process.env): {
  poolMinBytes?: number;
  turnMinBytes?: number;
} {
  const read = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!(value >= 0))
      throw new InputError(`${name}='${text}' is invalid: expected a number of bytes or Infinity`);
    return value;
  };
  const poolMinBytes = read('SMKIT_POOL_MIN_BYTES');
  const turnMinBytes = read('SMKIT_TURN_MIN_BYTES');
  return {
    ...(poolMinBytes !== undefined ? { poolMinBytes } : {}),
    ...(turnMinBytes !== undefined ? { turnMinBytes } : {}),
  };
}

/** Options of `loadServingModel`; everything has a default. */
export interface ServingModelOptions {
  /** Default: `readServingSettings(process.env)`. */
  readonly settings?: ServingSettings;
  /** Default: a logger at `settings.logLevel`. */
  readonly log?: Logger;
  /** The kinds to detect, in order (default `defaultModelKinds`: user code, built-in, ONNX, TF.js). */
  readonly kinds?: readonly ModelKind[];
  /** Serve large requests on worker threads when the kind allows it (default true). */
  readonly pool?: boolean;
}

/**
 * Detects and loads the model in `modelDir`; kinds that give a worker loader get a worker-thread pool
 * for large requests (`pool.ts`), whose threads load the same directory with that loader. Nothing needs
 * registering first: the kinds default to `defaultModelKinds`.
 * @example const handler = await loadServingModel('/opt/ml/model');
 */
export async function loadServingModel(
  modelDir: string,
  options: ServingModelOptions = {},
): Promise<ModelHandler> {
  const settings = options.settings ?? readServingSettings(process.env);
  const log = options.log ?? createLogger(settings.logLevel);
  // Imported on first use: the kinds pull in the built-in algorithms, which `smkit serve`'s cluster
  // primary must not load before its first fork.
  const kinds = options.kinds ?? (await import('./kinds/index.js')).defaultModelKinds;
  const context = { settings, log, kinds };
  const handler = await loadModel(modelDir, context);
  if (!handler.workerLoad || options.pool === false) return handler;
  const { withWorkerPool } = await import('./pool.js');
  const { poolMinBytes } = routingThresholds();
  // A batch transform's single serving process computes on its HTTP thread too (see `inlineWhenBusy`).
  const inlineWhenBusy = settings.batch && settings.workers === 1;
  return withWorkerPool(handler, {
    settings,
    log,
    inlineWhenBusy,
    ...(poolMinBytes !== undefined ? { minBytes: poolMinBytes } : {}),
  });
}

/**
 * `smkit serve`: serves the model in `<base>/model` on the configured port with the configured number
 * of processes until SIGTERM. Each process loads its own copy of the model; /ping says 503 until it has.
 */
export async function serve(settings: ServingSettings, log: Logger): Promise<void> {
  if (settings.multiModel) {
    // One process: the platform loads a model into the container once, so every request must reach
    // the process that holds it.
    if (settings.workers > 1)
      log.info({ workers: settings.workers }, 'multi-model endpoint: serving in one process');
    await runServer({
      port: settings.port,
      workers: 1,
      log,
      createApp: async () => {
        const [{ createMultiModelApp }, { defaultModelKinds: kinds }] = await Promise.all([
          import('./multi-model/endpoint.js'),
          import('./kinds/index.js'),
        ]);
        const load = (dir: string) => loadServingModel(dir, { settings, log, kinds, pool: false });
        return (await createMultiModelApp({ settings, log, load })).app;
      },
    });
    return;
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
      const [{ createApp }, { defaultModelKinds: kinds }] = await Promise.all([
        import('./app.js'),
        import('./kinds/index.js'),
      ]);
      return createApp({
        loadHandler: () => loadServingModel(modelDir, { settings, log, kinds }),
        settings,
        log,
        turnMinBytes: routingThresholds().turnMinBytes,
      });
    },
  });
}
