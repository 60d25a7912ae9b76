/**
 * onnxruntime-node sessions: what a model declares (inputs, outputs) and one run from host tensors to
 * host tensors. Used both on the HTTP thread and inside the worker threads of `onnx-pool.ts`.
 */
import '../../../io/onnxruntime-env.js';
import * as ort from 'onnxruntime-node';
import { SmkitError } from '../../../util/errors.js';
import {
  type HostTensor,
  isElementType,
  type NamedTensors,
  type TensorData,
  type TensorSpec,
} from '../../tensor/tensor.js';

/** The declared interface of an ONNX model. */
export interface OnnxSignature {
  readonly inputs: readonly TensorSpec[];
  /** Outputs that are tensors: these are what a request returns. */
  readonly outputs: readonly TensorSpec[];
  /** Outputs that are sequences or maps (ZipMap): smkit cannot return them. */
  readonly nonTensorOutputs: readonly string[];
}

/** Session options smkit uses: all optimizations, threads left to onnxruntime's defaults. */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };

/**
 * Session options for one of many models in a process (a multi-model endpoint): no intra- or inter-op
 * thread pool of its own (each would start threads per session), no CPU memory arena and no memory
 * pattern (each keeps the peak of every run allocated until the session is released), so a session
 * holds little more than its weights and what a release frees is returned.
 */
export const COMPACT_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  enableMemPattern: false,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};

/** Opens a session on `model.onnx`; throws SmkitError naming the file when onnxruntime cannot load it. */
export async function openSession(
  modelPath: string,
  options: ort.InferenceSession.SessionOptions = SESSION_OPTIONS,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, options);
  } catch (error) {
    throw new SmkitError(`onnxruntime cannot load ${modelPath}: ${(error as Error).message}`);
  }
}

/** Reads input and output names, element types and shapes from a session's metadata. */
export function readSignature(session: ort.InferenceSession): OnnxSignature {
  const inputs = session.inputMetadata.map((meta): TensorSpec => {
    if (!meta.isTensor || !isElementType(meta.type)) {
      const type = meta.isTensor ? meta.type : 'a sequence or map';
      throw new SmkitError(
        `ONNX input '${meta.name}' is ${type}; smkit feeds float32, float64, int32, int64, int8, uint8 and bool ` +
          'tensors: re-export the model with tensor inputs of one of these types',
      );
    }
    return { name: meta.name, type: meta.type, shape: meta.shape };
  });
  const outputs: TensorSpec[] = [];
  const nonTensorOutputs: string[] = [];
  for (const meta of session.outputMetadata) {
    if (meta.isTensor)
      outputs.push({
        name: meta.name,
        type: isElementType(meta.type) ? meta.type : 'float64',
        shape: meta.shape,
      });
    else nonTensorOutputs.push(meta.name);
  }
  return { inputs, outputs, nonTensorOutputs };
}

/**
 * The message for a model whose outputs include sequences or maps, e.g. skl2onnx's ZipMap of class
 * probabilities: says how to export a tensor instead.
 */
export function nonTensorOutputMessage(names: readonly string[]): string {
  return (
    `ONNX output ${names.map((n) => `'${n}'`).join(', ')} is a sequence or map (e.g. a ZipMap of class ` +
    'probabilities), which smkit cannot return. Re-export the classifier without ZipMap so the ' +
    "probabilities are a tensor: skl2onnx convert_sklearn(model, ..., options={'zipmap': False}) " +
    "(or options={id(model): {'zipmap': False}})"
  );
}

function toOrt(tensor: HostTensor): ort.Tensor {
  return new ort.Tensor(tensor.type, tensor.data, tensor.shape);
}

function fromOrt(name: string, value: ort.Tensor): HostTensor {
  const shape = value.dims;
  const data = value.data;
  if (isElementType(value.type)) return { type: value.type, shape, data: data as TensorData };
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    // float16, int16, uint16, uint32, uint64: widen to float64 so JSON and CSV can carry them.
    const wide = new Float64Array(value.size);
    const source = data as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < wide.length; i++) wide[i] = Number(source[i]!);
    return { type: 'float64', shape, data: wide };
  }
  throw new SmkitError(`ONNX output '${name}' has element type ${value.type}, which smkit cannot return`);
}

/**
 * Runs a session on host tensors and returns the requested outputs as host tensors, and how long the
 * run itself held the thread. onnxruntime-node runs a session
 * synchronously inside a `setImmediate` callback, so timing around the `await` would also count every
 * callback queued ahead of it (a busy server's other requests). An immediate queued just before
 * onnxruntime's runs right before it, in the same phase: the time from it to the result is the run's.
 */
export async function timedRunSession(
  session: ort.InferenceSession,
  feeds: NamedTensors,
  outputNames: readonly string[],
): Promise<{ outputs: Record<string, HostTensor>; ms: number }> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
  let started = performance.now();
  setImmediate(() => (started = performance.now()));
  const results = await session.run(ortFeeds, outputNames);
  const ms = performance.now() - started;
  const outputs: Record<string, HostTensor> = {};
  for (const name of outputNames) outputs[name] = fromOrt(name, results[name] as ort.Tensor);
  return { outputs, ms };
}
