/**
 * The models of a multi-model endpoint: a map of model slots by name, a memory budget, and an LRU of
 * idle models unloaded to make room. Every rule about concurrent loads, invokes and deletes lives here.
 *
 * Concurrency rules (what the HTTP routes answer):
 * - Two loads of one name share one load: the first answers 200 (or the load's error), the others
 *   wait for it and answer 409 "already loaded" (or the same error). A load of a loaded name is 409.
 * - A delete removes the name at once (GET, invoke and list say 404 / leave it out from then on), waits
 *   for a load in progress and for invocations in flight, frees the model, then answers 200. A load of
 *   that name arriving meanwhile waits for the model to be freed and then loads it again.
 * - A second delete of a name being deleted answers 404 (it is no longer loaded).
 * - Invocations of a name that is loading wait for the load; of an unknown or deleted name, 404.
 * - Only idle models (ready, nothing in flight) are unloaded to make room; when the new model still
 *   does not fit, 507. A model larger than the whole budget is 507 at once.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_BASE_DIR, resolvePaths } from '../../contract/index.js';
import { errorMessage, HttpError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../handler.js';
import { createModelSlot, type ModelSlot } from '../slot.js';
import { estimateModelBytes } from './estimate.js';

/** A loaded model as GET /models lists it. */
export interface ModelDescription {
  readonly modelName: string;
  readonly modelUrl: string;
}

/** Options of `createModelRegistry`. */
export interface ModelRegistryOptions {
  /** Loads the model in a directory (`loadServingModel` with the endpoint's kinds). */
  readonly load: (modelDir: string) => Promise<ModelHandler>;
  /** Every model url must resolve under this directory (`<SAGEMAKER_BASE_DIR>/models`). */
  readonly modelsRoot: string;
  /** Bytes the loaded models may hold together (see `estimateModelBytes`). */
  readonly budgetBytes: number;
  /** Default `estimateModelBytes`. */
  readonly estimate?: (modelDir: string) => Promise<number>;
  readonly log: Logger;
}

/** The models of a multi-model endpoint (see the rules at the top of this file). */
export interface ModelRegistry {
  /** Loads `url` as `name`; resolves when it is ready, rejects with an HttpError (400, 409, 507). */
  load(name: string, url: string, targetModel?: string): Promise<void>;
  /** The loaded (or loading) model of that name. */
  describe(name: string): ModelDescription | undefined;
  /** Every model, sorted by name. */
  list(): ModelDescription[];
  /** True when the name is loaded or loading (an invocation of it will be answered). */
  has(name: string): boolean;
  /** Waits for a load of that name in progress; false when the name is unknown or its load failed. */
  ready(name: string): Promise<boolean>;
  /** A slot that invokes that name (404 once it is gone); for the app's invocation route. */
  slot(name: string): ModelSlot;
  /** Frees the model; false when the name is not loaded. */
  unload(name: string): Promise<boolean>;
  /** Bytes charged against the budget (models loaded, loading, or not yet freed). */
  reservedBytes(): number;
  readonly budgetBytes: number;
  /** Frees every model. */
  close(): Promise<void>;
}

interface Entry {
  readonly name: string;
  readonly url: string;
  readonly loading: Promise<void>;
  ready: boolean;
  slot: ModelSlot | undefined;
  bytes: number;
  inFlight: number;
  lastUsed: number;
  drained: (() => void) | undefined;
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Resolves a load request's url to a real directory under `modelsRoot`, following symbolic links, so
 * `../` or a link cannot reach outside it; `/opt/ml/models/...` is read under `modelsRoot` (the
 * SAGEMAKER_BASE_DIR-relative root). 400 with the reason otherwise. The file system calls are
 * synchronous: a few metadata lookups on the local disk the platform just extracted to take
 * microseconds, while each asynchronous one would wait a turn of a busy server's event loop behind
 * other requests (a cold model's load is on its invocation's critical path).
 */
export async function resolveModelUrl(url: string, modelsRoot: string): Promise<string> {
  const root = path.resolve(modelsRoot);
  const inside = (dir: string, top: string): boolean => dir === top || dir.startsWith(top + path.sep);
  let wanted = path.resolve(root, url);
  // The platform says /opt/ml/models/...: under SAGEMAKER_BASE_DIR that is <base>/models/...
  const platformRoot = resolvePaths(DEFAULT_BASE_DIR).models;
  if (root !== platformRoot && inside(wanted, platformRoot)) {
    wanted = path.join(root, path.relative(platformRoot, wanted));
  }
  if (!inside(wanted, root)) throw new HttpError(400, `url ${url} is outside ${root}`);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new HttpError(400, `url ${url} does not exist`);
  }
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    // the root itself does not exist: nothing can be inside it
  }
  if (!inside(real, realRoot)) throw new HttpError(400, `url ${url} leads outside ${root}`);
  if (!statSync(real).isDirectory()) throw new HttpError(400, `url ${url} is not a directory`);
  return real;
}

/**
 * Creates the registry.
 * @example const models = createModelRegistry({ load: (dir) => loadServingModel(dir), modelsRoot, budgetBytes, log });
 */
export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { log, budgetBytes } = options;
  const estimate = options.estimate ?? estimateModelBytes;
  const entries = new Map<string, Entry>();
  /** Names being freed, and the promise that settles once they are. */
  const freeing = new Map<string, Promise<void>>();
  let reserved = 0;
  let clock = 0;

  /** Removes the entry now; frees it once its load and invocations have finished. */
  function remove(entry: Entry, why: string): Promise<void> {
    entries.delete(entry.name);
    const freed = (async () => {
      await entry.loading.catch(() => undefined);
      if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
      await entry.slot?.close();
      entry.slot = undefined;
      reserved -= entry.bytes;
      entry.bytes = 0;
      log.info({ model: entry.name, reservedBytes: reserved }, `model ${why}`);
    })().finally(() => {
      if (freeing.get(entry.name) === freed) freeing.delete(entry.name);
    });
    freeing.set(entry.name, freed);
    return freed;
  }

  /**
   * Charges `bytes` against the budget, first unloading the least recently used idle models. Runs
   * without awaiting in between, so concurrent loads cannot both take the same room.
   */
  function reserve(name: string, bytes: number): Promise<void>[] {
    if (bytes > budgetBytes) {
      throw new HttpError(
        507,
        `model ${name} needs about ${mib(bytes)}, more than the whole budget of ${mib(budgetBytes)} (SMKIT_MULTI_MODEL_MEMORY_MB)`,
      );
    }
    const evictions: Promise<void>[] = [];
    const idle = [...entries.values()]
      .filter((e) => e.ready && e.inFlight === 0 && e.name !== name)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let room = budgetBytes - reserved;
    const victims: Entry[] = [];
    for (const entry of idle) {
      if (room >= bytes) break;
      victims.push(entry);
      room += entry.bytes;
    }
    if (room < bytes) {
      throw new HttpError(
        507,
        `no room for model ${name} (about ${mib(bytes)}): ${mib(reserved)} of ${mib(budgetBytes)} is held by models in use or loading`,
      );
    }
    for (const victim of victims) evictions.push(remove(victim, 'unloaded to make room'));
    reserved += bytes;
    return evictions;
  }

  async function loadEntry(entry: Entry, url: string, targetModel: string | undefined): Promise<void> {
    const started = Date.now();
    const dir = await resolveModelUrl(url, options.modelsRoot);
    const bytes = await estimate(dir);
    // A delete that arrived meanwhile waits for this load (it answers 200) and then frees the model.
    const evictions = reserve(entry.name, bytes);
    entry.bytes = bytes;
    await Promise.all(evictions);
    const slot = createModelSlot({ load: () => options.load(dir), log });
    entry.slot = slot;
    await slot.load();
    if (slot.state() !== 'ready') {
      throw new HttpError(400, `model ${entry.name} at ${url} could not be loaded: ${slot.failure()}`);
    }
    entry.ready = true;
    entry.lastUsed = ++clock;
    log.info(
      {
        model: entry.name,
        targetModel,
        kind: slot.kind(),
        bytes,
        reservedBytes: reserved,
        ms: Date.now() - started,
      },
      'model loaded',
    );
  }

  function startLoad(name: string, url: string, targetModel: string | undefined): Entry {
    let settle: (value: Promise<void>) => void = () => undefined;
    const entry: Entry = {
      name,
      url,
      loading: new Promise<void>((resolve) => (settle = resolve)),
      ready: false,
      slot: undefined,
      bytes: 0,
      inFlight: 0,
      lastUsed: 0,
      drained: undefined,
    };
    entries.set(name, entry);
    const loading = loadEntry(entry, url, targetModel).catch(async (error: unknown) => {
      // A failed load leaves nothing behind: the name is free again and its bytes are released.
      if (entries.get(name) === entry) entries.delete(name);
      await entry.slot?.close();
      entry.slot = undefined;
      reserved -= entry.bytes;
      entry.bytes = 0;
      if (!(error instanceof HttpError)) log.error({ err: error, model: name }, 'model load failed');
      throw error instanceof HttpError
        ? error
        : new HttpError(500, `loading model ${name} failed: ${errorMessage(error)}`);
    });
    settle(loading);
    return entry;
  }

  return {
    budgetBytes,
    async load(name, url, targetModel) {
      for (;;) {
        const existing = entries.get(name);
        if (existing?.ready) throw new HttpError(409, `model ${name} is already loaded`);
        if (existing) {
          // Coalesce: wait for the load in progress (its error is ours), then look again.
          await existing.loading;
          continue;
        }
        const pending = freeing.get(name);
        if (!pending) break;
        await pending;
      }
      await startLoad(name, url, targetModel).loading;
    },
    describe(name) {
      const entry = entries.get(name);
      return entry && { modelName: entry.name, modelUrl: entry.url };
    },
    list() {
      return [...entries.values()]
        .map((e) => ({ modelName: e.name, modelUrl: e.url }))
        .sort((a, b) => (a.modelName < b.modelName ? -1 : a.modelName > b.modelName ? 1 : 0));
    },
    has: (name) => entries.has(name),
    async ready(name) {
      const entry = entries.get(name);
      if (!entry) return false;
      try {
        await entry.loading;
        return entries.get(name) === entry;
      } catch {
        return false;
      }
    },
    slot(name): ModelSlot {
      const gone = (): HttpError => new HttpError(404, `model ${name} is not loaded`);
      return {
        state: () => 'ready',
        failure: () => '',
        kind: () => entries.get(name)?.slot?.kind(),
        load: () => Promise.resolve(),
        close: () => Promise.resolve(),
        async invoke(request: InvocationRequest): Promise<InvocationResponse> {
          const entry = entries.get(name);
          if (!entry?.ready || !entry.slot) throw gone();
          entry.inFlight++;
          entry.lastUsed = ++clock;
          try {
            return await entry.slot.invoke(request);
          } finally {
            entry.inFlight--;
            if (entry.inFlight === 0) entry.drained?.();
          }
        },
      };
    },
    async unload(name) {
      const entry = entries.get(name);
      if (!entry) return false;
      await remove(entry, 'deleted');
      return true;
    },
    reservedBytes: () => reserved,
    async close() {
      await Promise.all([...entries.values()].map((entry) => remove(entry, 'closed')));
      await Promise.all([...freeing.values()]);
    },
  };
}
