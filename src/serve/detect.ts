import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ServingSettings } from '../contract/index.js';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ModelHandler } from './handler.js';

/** What a model kind's loader receives. */
export interface LoadContext {
  readonly settings: ServingSettings;
  readonly log: Logger;
}

/**
 * One kind of model smkit can serve. Kinds are tried in `order` (lowest first); the first whose
 * `detect` says yes loads the model. Built-in: `model_algo-1` (10); the handlers add ONNX `model.onnx`
 * (20), TF.js `model.json` (30) and user code `code/inference.*` (40).
 */
export interface ModelKind {
  readonly name: string;
  readonly order: number;
  /** The files that mark this kind, for the "no model found" message (`model.onnx`). */
  readonly marker: string;
  /**
   * Large requests may run on worker threads, each loading its own copy of the model (see `pool.ts`).
   * Say yes when inference blocks the thread for long (onnxruntime, big JS loops) and the model is small
   * enough to hold twice per process.
   */
  readonly offThread?: boolean;
  detect(modelDir: string, context: LoadContext): Promise<boolean>;
  load(modelDir: string, context: LoadContext): Promise<ModelHandler>;
}

const kinds: ModelKind[] = [];

/** Adds a model kind (replacing one of the same name). */
export function registerModelKind(kind: ModelKind): void {
  const at = kinds.findIndex((k) => k.name === kind.name);
  if (at >= 0) kinds.splice(at, 1);
  kinds.push(kind);
  kinds.sort((a, b) => a.order - b.order);
}

/** The registered kinds, in detection order. */
export function modelKinds(): readonly ModelKind[] {
  return kinds;
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

/** Loads the model in `modelDir` with the first kind that detects it (see `detectModelKind`). */
export async function loadModel(modelDir: string, context: LoadContext): Promise<ModelHandler> {
  const kind = await detectModelKind(modelDir, context);
  context.log.info({ kind: kind.name, modelDir }, 'loading model');
  return kind.load(modelDir, context);
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
 * Finds what kind of model `modelDir` holds. A TensorFlow SavedModel and an empty directory fail with a
 * message that lists what smkit can serve.
 */
export async function detectModelKind(modelDir: string, context: LoadContext): Promise<ModelKind> {
  for (const kind of kinds) {
    if (await kind.detect(modelDir, context)) return kind;
  }
  const markers = kinds.map((k) => k.marker);
  const expected =
    markers.length > 1
      ? `${markers.slice(0, -1).join(', ')} or ${markers.at(-1)}`
      : (markers[0] ?? 'nothing');
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
