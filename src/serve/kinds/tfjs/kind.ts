/**
 * The TensorFlow.js model kind. Detection reads model.json only; TensorFlow.js itself is imported only
 * when a model of this kind loads.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelHandler } from '../../handler.js';
import { createTensorHandler } from '../../tensor/tensor-handler.js';
import type { LoadContext, ModelKind } from '../kind.js';
import { readModelJson, TFJS_MODEL_FILE } from './tfjs-io.js';

export { TFJS_MODEL_FILE } from './tfjs-io.js';

/** Loads a TF.js model directory as a handler (also what each serve-pool worker thread runs). */
export async function loadTfjsHandler(
  modelDir: string,
  context: Pick<LoadContext, 'log'>,
): Promise<ModelHandler> {
  const { loadTfjsModel } = await import('./tfjs.js');
  return createTensorHandler(await loadTfjsModel(modelDir, { logger: context.log }));
}

/**
 * TF.js `model.json` + weights (a model.json without `modelTopology`, like smkit's own metadata, is not
 * one). The wasm backend computes on the calling thread, so large requests go to the serve pool, whose
 * threads load the same directory with `loadTfjsHandler`.
 */
export const tfjsModelKind: ModelKind = {
  name: 'tfjs',
  marker: TFJS_MODEL_FILE,
  worker: { module: import.meta.url, exportName: 'loadTfjsHandler' },
  detect: async (modelDir) =>
    existsSync(path.join(modelDir, TFJS_MODEL_FILE)) &&
    (await readModelJson(modelDir).then(
      () => true,
      () => false,
    )),
  load: loadTfjsHandler,
};
