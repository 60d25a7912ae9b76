import { registerModelKind } from './detect.js';
import { builtinModelKind } from './handlers/builtin.js';

/**
 * Registers every model kind smkit serves, in detection order: built-in `model_algo-1` first, then
 * ONNX `model.onnx`, TensorFlow.js `model.json` and user code `code/inference.*`.
 */
export function registerModelKinds(): void {
  registerModelKind(builtinModelKind);
}
