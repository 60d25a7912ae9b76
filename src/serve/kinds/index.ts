/**
 * The model kinds smkit serves, each a folder here owning its marker files: `user-code/`,
 * `builtin/`, `onnx/`, `tfjs/`. Nothing is registered globally: the list is passed to
 * `loadServingModel` (`kinds`), which defaults to `defaultModelKinds`.
 */
import { builtinModelKind } from './builtin/builtin.js';
import type { ModelKind } from './kind.js';
import { onnxModelKind } from './onnx/kind.js';
import { tfjsModelKind } from './tfjs/kind.js';
import { userCodeModelKind } from './user-code/user-code.js';

/**
 * Every model kind smkit serves, in detection order: user code `code/inference.*` first (its default
 * modelFn loads whichever other kind is there), then built-in `model_algo-1`, ONNX `model.onnx` and
 * TensorFlow.js `model.json`. To add a kind, pass `[myKind, ...defaultModelKinds]`.
 */
export const defaultModelKinds: readonly ModelKind[] = Object.freeze([
  userCodeModelKind,
  builtinModelKind,
  onnxModelKind,
  tfjsModelKind,
]);
