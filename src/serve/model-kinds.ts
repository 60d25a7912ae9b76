import { registerModelKind } from './detect.js';
import { builtinModelKind } from './handlers/builtin.js';
import { onnxModelKind, tfjsModelKind } from './handlers/kinds.js';
import { userCodeModelKind } from './handlers/user-code.js';

/**
 * Registers every model kind smkit serves, in detection order: user code `code/inference.*` first (its
 * default modelFn loads whichever other kind is there), then built-in `model_algo-1`, ONNX `model.onnx`
 * and TensorFlow.js `model.json`.
 */
export function registerModelKinds(): void {
  registerModelKind(userCodeModelKind);
  registerModelKind(builtinModelKind);
  registerModelKind(onnxModelKind);
  registerModelKind(tfjsModelKind);
}
