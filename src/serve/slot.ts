/**
 * A model slot owns one loaded model: it loads it, reports its state (for /ping), invokes it and frees
 * it. The single-model app holds one slot; a multi-model endpoint is a map of slots plus routes.
 */
import { errorMessage, HttpError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from './handler.js';

/**
 * Readiness of a slot's model: `unloaded` (never loaded, or closed), `loading`, `ready`, `failed`
 * (the reason in `failure()`). Only `ready` answers /ping with 200.
 */
export type ModelState = 'unloaded' | 'loading' | 'ready' | 'failed';

/** One loaded (or loadable) model. */
export interface ModelSlot {
  state(): ModelState;
  /** Why the last load failed; empty unless `failed`. */
  failure(): string;
  /** The loaded handler's kind (`kmeans`, `onnx`, ...), once ready. */
  kind(): string | undefined;
  /**
   * Loads the model; again after `close` or a failure. Concurrent calls share one load. Resolves when
   * it has finished, successfully or not (see `state()`); a ready slot resolves at once.
   */
  load(): Promise<void>;
  /** Invokes the loaded model; 503 when it is not ready. */
  invoke(request: InvocationRequest): Promise<InvocationResponse>;
  /**
   * Frees the model (`ModelHandler.close`: sessions, worker threads, tensors) and drops it, so its
   * memory can be reclaimed; the slot is `unloaded` afterwards. Waits for a load in progress first.
   */
  close(): Promise<void>;
}

/** Options of `createModelSlot`: a loader, an already loaded handler, or both. */
export interface ModelSlotOptions {
  /** Loads the model (called by each `load()` that finds the slot unloaded or failed). */
  readonly load?: () => Promise<ModelHandler>;
  /** A model already loaded: the slot starts `ready`. */
  readonly handler?: ModelHandler;
  readonly log: Logger;
}

/**
 * Creates a slot.
 * @example const slot = createModelSlot({ load: () => loadServingModel(dir), log }); await slot.load();
 */
export function createModelSlot(options: ModelSlotOptions): ModelSlot {
  const { log } = options;
  if (!options.handler && !options.load) throw new Error('a model slot needs a load function or a handler');
  let handler = options.handler;
  let state: ModelState = handler ? 'ready' : 'unloaded';
  let failure = '';
  let loading: Promise<void> | undefined;

  async function loadOnce(load: () => Promise<ModelHandler>): Promise<void> {
    const started = Date.now();
    state = 'loading';
    failure = '';
    try {
      handler = await load();
      state = 'ready';
      log.info({ kind: handler.kind, ms: Date.now() - started }, 'model loaded');
    } catch (error) {
      state = 'failed';
      failure = errorMessage(error);
      log.error({ err: error }, `model failed to load: ${failure}`);
    }
  }

  return {
    state: () => state,
    failure: () => failure,
    kind: () => (state === 'ready' ? handler?.kind : undefined),
    load() {
      if (loading) return loading;
      if (state === 'ready') return Promise.resolve();
      const load = options.load;
      if (!load) {
        state = 'failed';
        failure = 'this slot was given a handler, not a loader: it cannot load again once closed';
        return Promise.resolve();
      }
      loading = loadOnce(load).finally(() => {
        loading = undefined;
      });
      return loading;
    },
    invoke(request) {
      if (state !== 'ready' || !handler) {
        return Promise.reject(
          new HttpError(
            503,
            state === 'failed' ? `the model failed to load: ${failure}` : 'the model is not ready',
          ),
        );
      }
      return handler.invoke(request);
    },
    async close() {
      if (loading) await loading;
      const loaded = handler;
      handler = undefined;
      state = 'unloaded';
      failure = '';
      await loaded?.close?.();
    },
  };
}
