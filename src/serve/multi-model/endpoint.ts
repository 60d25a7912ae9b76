/**
 * A multi-model endpoint: the serving app with a registry of models behind the /models routes. /ping
 * says 200 as soon as the server is up, with or without models; /invocations says 404 and where to go.
 */
import type { ServingSettings } from '../../contract/index.js';
import { resolvePaths } from '../../contract/index.js';
import { HttpError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { type AppSettings, createApp, type SmkitApp } from '../app.js';
import type { ModelHandler } from '../handler.js';
import type { ModelSlot } from '../slot.js';
import { modelMemoryBudget } from './memory-limit.js';
import { createModelRegistry, type ModelRegistry } from './registry.js';
import { multiModelRoutes } from './routes.js';

/** Options of `createMultiModelApp`. */
export interface MultiModelAppOptions {
  readonly settings: AppSettings & Pick<ServingSettings, 'baseDir' | 'multiModelMemoryBytes'>;
  readonly log: Logger;
  /** Loads one model directory (`loadServingModel(dir, { pool: false, ... })`). */
  readonly load: (modelDir: string) => Promise<ModelHandler>;
  /** Default `<baseDir>/models`. */
  readonly modelsRoot?: string;
  /** Default `modelMemoryBudget(settings.multiModelMemoryBytes)`. */
  readonly budgetBytes?: number;
}

/** The app and its models. */
export interface MultiModelApp {
  readonly app: SmkitApp;
  readonly registry: ModelRegistry;
}

/** The app's own slot: always ready (for /ping); /invocations is not where models are invoked. */
function endpointSlot(registry: ModelRegistry): ModelSlot {
  return {
    state: () => 'ready',
    failure: () => '',
    kind: () => undefined,
    load: () => Promise.resolve(),
    invoke: () =>
      Promise.reject(
        new HttpError(
          404,
          'this is a multi-model endpoint (SAGEMAKER_MULTI_MODEL=true): invoke a model with POST /models/NAME/invoke',
        ),
      ),
    close: () => registry.close(),
  };
}

/**
 * Creates a multi-model endpoint's app.
 * @example const { app } = await createMultiModelApp({ settings, log, load: (dir) => loadServingModel(dir, { pool: false }) });
 */
export async function createMultiModelApp(options: MultiModelAppOptions): Promise<MultiModelApp> {
  const { settings, log } = options;
  const budgetBytes = options.budgetBytes ?? (await modelMemoryBudget(settings.multiModelMemoryBytes));
  const registry = createModelRegistry({
    load: options.load,
    modelsRoot: options.modelsRoot ?? resolvePaths(settings.baseDir).models,
    budgetBytes,
    log,
  });
  log.info({ budgetBytes }, 'multi-model endpoint');
  let app: SmkitApp | undefined;
  const routes = multiModelRoutes({ registry, log, app: () => app! });
  app = createApp({ slot: endpointSlot(registry), settings, log, routes });
  return { app, registry };
}
