/**
 * The ONNX model kind. Detection is cheap (a file check); onnxruntime-node is imported only when a model
 * of this kind loads, so a k-means endpoint never pays for it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createTensorHandler } from '../../tensor/tensor-handler.js';
import type { ModelKind } from '../kind.js';
import { ONNX_MODEL_FILE } from './marker.js';

export { ONNX_MODEL_FILE } from './marker.js';

/**
 * `model.onnx`, served with onnxruntime-node. No `worker`: the body size says little about an ONNX
 * model's cost (one image row can take seconds, a 1,000-row tabular batch microseconds), so the model
 * itself moves runs to its own worker thread by measured time per row (`onnx.ts`, `auto`), while
 * decoding and encoding stay on the HTTP thread.
 */
export const onnxModelKind: ModelKind = {
  name: 'onnx',
  marker: ONNX_MODEL_FILE,
  detect: async (modelDir) => existsSync(path.join(modelDir, ONNX_MODEL_FILE)),
  load: async (modelDir, context) => {
    const { loadOnnxModel } = await import('./onnx.js');
    return createTensorHandler(await loadOnnxModel(modelDir, { logger: context.log }));
  },
};
