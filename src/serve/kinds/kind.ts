import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ServingSettings } from '../../contract/index.js';
import { InputError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { ModelHandler, WorkerLoad, WorkerLoader } from '../handler.js';

/** What a model kind's loader receives. */
export interface LoadContext {
  readonly settings: ServingSettings;
  readonly log: Logger;
  /**
   * Every kind this load chose from, in detection order (user code's default model loader picks the
   * kind under it from these).
   */
  readonly kinds: readonly ModelKind[];
}

/**
 * One kind of model smkit can serve: a folder under `src/serve/kinds/` that owns its marker files.
 * Detection tries a list of kinds in order (see `defaultModelKinds`); the first whose `detect` says yes
 * loads the model.
 */
export interface ModelKind {
  readonly name: string;
  /** The files that mark this kind, for the "no model found" message (`model.onnx`). */
  readonly marker: string;
  /**
   * Large requests may run on worker threads, each loading its own copy of the model with this loader
   * (see `withWorkerPool`). Give one when inference blocks the thread for long (big JS loops) and the
   * model is small enough to hold twice per process; without one, every request runs on the HTTP thread.
   */
  readonly worker?: WorkerLoader;
  detect(modelDir: string, context: LoadContext): Promise<boolean>;
  load(modelDir: string, context: LoadContext): Promise<ModelHandler>;
}

/** True when `file` exists. */
export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads the model in `modelDir` with the first of `context.kinds` that detects it (see
 * `detectModelKind`). When the kind has a worker loader, the handler carries it as `workerLoad`, so
 * `withWorkerPool` can give its threads the same model.
 */
export async function loadModel(modelDir: string, context: LoadContext): Promise<ModelHandler> {
  const kind = await detectModelKind(modelDir, context);
  context.log.info({ kind: kind.name, modelDir }, 'loading model');
  return loadKind(kind, modelDir, context);
}

/** Loads `modelDir` with `kind`, attaching the kind's worker loader (see `loadModel`). */
export async function loadKind(
  kind: ModelKind,
  modelDir: string,
  context: LoadContext,
): Promise<ModelHandler> {
  const handler = await kind.load(modelDir, context);
  if (!kind.worker || handler.workerLoad) return handler;
  // A view of the handler with one more property: methods, getters and class instances keep working.
  const workerLoad: WorkerLoad = { ...kind.worker, modelDir };
  return Object.create(handler, { workerLoad: { value: workerLoad, enumerable: true } }) as ModelHandler;
}

/**
 * Where a TensorFlow SavedModel's `saved_model.pb` is, relative to `modelDir`: at the top, or in a
 * version directory (`1/saved_model.pb`, the layout TensorFlow Serving and SageMaker's TensorFlow
 * containers use).
 */
async function findSavedModel(modelDir: string): Promise<string | undefined> {
  if (await exists(path.join(modelDir, 'saved_model.pb'))) return 'saved_model.pb';
  let entries: string[];
  try {
    entries = await readdir(modelDir);
  } catch {
    return undefined;
  }
  for (const entry of entries.filter((name) => /^\d+$/.test(name)).sort()) {
    const file = path.join(entry, 'saved_model.pb');
    if (await exists(path.join(modelDir, file))) return file;
  }
  return undefined;
}

/**
 * Finds which of `context.kinds` holds `modelDir` (the first that detects it). A TensorFlow SavedModel
 * and an empty directory fail with a message that lists what those kinds serve.
 */
export async function detectModelKind(modelDir: string, context: LoadContext): Promise<ModelKind> {
  const { kinds } = context;
  for (const kind of kinds) {
    if (await kind.detect(modelDir, context)) return kind;
  }
  const markers = kinds.map((k) => k.marker);
  const expected =
    markers.length > 1
      ? `${markers.slice(0, -1).join(', ')} or ${markers.at(-1)}`
      : (markers[0] ?? 'nothing (no model kinds were given)');
  const savedModel = await findSavedModel(modelDir);
  if (savedModel) {
    throw new InputError(
      `${modelDir} holds a TensorFlow SavedModel (${savedModel}), which smkit cannot run: convert it ` +
        'to TensorFlow.js (tensorflowjs_converter --input_format=tf_saved_model) to get model.json, ' +
        'or to ONNX (python -m tf2onnx.convert --saved-model) to get model.onnx, ' +
        `or serve it with code/inference.js; smkit serves ${expected}`,
    );
  }
  throw new InputError(`no model found in ${modelDir}: expected ${expected}`);
}
