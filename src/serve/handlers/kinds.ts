/**
 * The model kinds this folder adds to the detection registry. Detection is cheap (file checks); the
 * runtimes (onnxruntime-node, TensorFlow.js) are imported only when a model of their kind loads, so a
 * k-means endpoint never pays for them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelKind } from '../detect.js';
import { createTensorHandler } from './tensor-handler.js';
import { readModelJson, TFJS_MODEL_FILE } from './tfjs-io.js';

/** The file that marks an ONNX model directory. */
export const ONNX_MODEL_FILE = 'model.onnx';

/** `model.onnx`, served with onnxruntime-node. */
export const onnxModelKind: ModelKind = {
  name: 'onnx',
  order: 20,
  marker: ONNX_MODEL_FILE,
  detect: async (modelDir) => existsSync(path.join(modelDir, ONNX_MODEL_FILE)),
  load: async (modelDir, context) => {
    const { loadOnnxModel } = await import('./onnx.js');
    return createTensorHandler(await loadOnnxModel(modelDir, { logger: context.log }));
  },
};

/** TF.js `model.json` + weights (a model.json without `modelTopology`, like smkit's own metadata, is not one). */
export const tfjsModelKind: ModelKind = {
  name: 'tfjs',
  order: 30,
  marker: TFJS_MODEL_FILE,
  detect: async (modelDir) =>
    existsSync(path.join(modelDir, TFJS_MODEL_FILE)) &&
    (await readModelJson(modelDir).then(
      () => true,
      () => false,
    )),
  load: async (modelDir, context) => {
    const { loadTfjsModel } = await import('./tfjs.js');
    return createTensorHandler(await loadTfjsModel(modelDir, { logger: context.log }));
  },
};
