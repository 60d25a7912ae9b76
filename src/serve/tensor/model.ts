/**
 * The model side shared by the ONNX and TensorFlow.js handlers: a model that declares its inputs and
 * outputs and maps host tensors to host tensors. The request/response side lives in `tensor-handler.ts`.
 */
import type { NamedTensors, TensorSpec } from './tensor.js';

/** A loaded tensor model (ONNX session, TF.js graph or layers model). */
export interface TensorModel {
  /** `onnx` or `tfjs`. */
  readonly kind: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Runs the model on inputs already fitted to `inputs` (names, shapes, element types). */
  predict(inputs: NamedTensors): Promise<NamedTensors>;
  /** Frees sessions, workers and tensors. */
  close(): Promise<void>;
}
