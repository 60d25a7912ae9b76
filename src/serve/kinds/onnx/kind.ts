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
 *
 * On a multi-model endpoint (`SAGEMAKER_MULTI_MODEL=true`) a worker thread and its own copy of the
 * session per model would cost megabytes each, so runs stay inline and sessions are compact
 * (`COMPACT_SESSION_OPTIONS`): many small models per gigabyte is what such an endpoint is for.
 */
export const onnxModelKind: ModelKind = {
  name: 'onnx',
  marker: ONNX_MODEL_FILE,
  detect: async (modelDir) => existsSync(path.join(modelDir, ONNX_MODEL_FILE)),
  load: async (modelDir, context) => {
    const [{ loadOnnxModel }, { COMPACT_SESSION_OPTIONS }] = await Promise.all([
      import('./onnx.js'),
      import('./onnx-session.js'),
    ]);
    const shared = context.settings.multiModel
      ? { execution: 'inline' as const, sessionOptions: COMPACT_SESSION_OPTIONS }
      : {};
    return createTensorHandler(await loadOnnxModel(modelDir, { logger: context.log, ...shared }));
  },
};
