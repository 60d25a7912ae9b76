/**
 * TensorFlow.js models (`model.json` + weight shards): layers models (`model.save()`) and graph models
 * (`tensorflowjs_converter`). Runs on tfjs-node when it is installed, else on the WebAssembly backend
 * whose binaries ship inside @tensorflow/tfjs-backend-wasm.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SmkitError } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import type { TensorModel } from '../../tensor/model.js';
import { fileSystem, readModelJson } from './tfjs-io.js';
import type { ElementType, HostTensor, NamedTensors, TensorSpec } from '../../tensor/tensor.js';

export { fileSystem } from './tfjs-io.js';

let backend: Promise<string> | undefined;

/**
 * Picks the TF.js backend once: tfjs-node (native TensorFlow) when it can be imported, else wasm with the
 * binaries from the installed package. Returns the backend name.
 */
export function initTfjsBackend(logger?: Logger): Promise<string> {
  backend ??= (async () => {
    const native = '@tensorflow/tfjs-node';
    try {
      await import(native);
      await tf.setBackend('tensorflow');
    } catch {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(`${dir}${path.sep}`);
      if (!(await tf.setBackend('wasm'))) await tf.setBackend('cpu');
    }
    await tf.ready();
    logger?.info({ backend: tf.getBackend() }, 'TensorFlow.js backend ready');
    return tf.getBackend();
  })();
  return backend;
}

const TF_TYPES: Partial<Record<string, ElementType>> = { float32: 'float32', int32: 'int32', bool: 'bool' };

function elementType(dtype: string | undefined, what: string): ElementType {
  const type = TF_TYPES[dtype ?? 'float32'];
  if (!type) throw new SmkitError(`TF.js ${what} has dtype ${dtype}; smkit feeds float32, int32 and bool`);
  return type;
}

/** A loaded TF.js model. */
export interface TfjsModel extends TensorModel {
  readonly format: 'layers-model' | 'graph-model';
  readonly backend: string;
}

function isLayers(json: tf.io.ModelJSON): boolean {
  if (json.format) return json.format === 'layers-model';
  const topology = json.modelTopology as Record<string, unknown>;
  return 'model_config' in topology || 'class_name' in topology;
}

function toTf(tensor: HostTensor): tf.Tensor {
  return tf.tensor(
    tensor.data as Float32Array | Int32Array | Uint8Array,
    [...tensor.shape],
    tensor.type as tf.DataType,
  );
}

async function fromTf(tensor: tf.Tensor, name: string): Promise<HostTensor> {
  const type = elementType(tensor.dtype, `output '${name}'`);
  const data = (await tensor.data()) as Float32Array | Int32Array | Uint8Array;
  return { type, shape: tensor.shape, data };
}

/**
 * Loads `modelDir/model.json` as a layers or graph model. (A TF SavedModel is explained by `loadModel`.)
 * @example const model = await loadTfjsModel('/opt/ml/model'); await model.predict({ input: tensor })
 */
export async function loadTfjsModel(modelDir: string, options: { logger?: Logger } = {}): Promise<TfjsModel> {
  const name = await initTfjsBackend(options.logger);
  const json = await readModelJson(modelDir);
  if (isLayers(json)) {
    const model = await tf.loadLayersModel(fileSystem(modelDir));
    // Sequential models leave inputNames/outputNames empty: name inputs by their symbolic tensors and
    // outputs by the layers that produce them.
    const inputs = model.inputs.map(
      (input, i): TensorSpec => ({
        name: model.inputNames[i] || input.sourceLayer.name,
        type: elementType(input.dtype, `input '${input.name}'`),
        shape: input.shape,
      }),
    );
    const outputs = model.outputs.map(
      (output, i): TensorSpec => ({
        name: model.outputNames[i] || output.sourceLayer.name,
        type: 'float32',
        shape: output.shape,
      }),
    );
    return {
      kind: 'tfjs',
      format: 'layers-model',
      backend: name,
      inputs,
      outputs,
      async predict(feeds) {
        const xs = inputs.map((spec) => toTf(feeds[spec.name]!));
        const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
        return collect(outputs, Array.isArray(ys) ? ys : [ys], xs);
      },
      async close() {
        model.dispose();
      },
    };
  }
  const model = await tf.loadGraphModel(fileSystem(modelDir));
  const inputs = model.inputs.map(
    (input): TensorSpec => ({
      name: input.name,
      type: elementType(input.dtype, `input '${input.name}'`),
      shape: input.shape ?? [],
    }),
  );
  const outputs = model.outputs.map(
    (output): TensorSpec => ({
      name: output.name,
      type: TF_TYPES[output.dtype] ?? 'float32',
      shape: output.shape ?? [],
    }),
  );
  let needsAsync = false;
  return {
    kind: 'tfjs',
    format: 'graph-model',
    backend: name,
    inputs,
    outputs,
    async predict(feeds) {
      const xs: tf.NamedTensorMap = {};
      for (const spec of inputs) xs[spec.name] = toTf(feeds[spec.name]!);
      const names = outputs.map((o) => o.name);
      let ys: tf.Tensor | tf.Tensor[];
      if (needsAsync) {
        ys = await model.executeAsync(xs, names);
      } else {
        try {
          ys = model.execute(xs, names);
        } catch (error) {
          // Graphs with control flow or dynamic shapes only run asynchronously; remember that.
          if (!/executeAsync/.test((error as Error).message)) throw error;
          needsAsync = true;
          ys = await model.executeAsync(xs, names);
        }
      }
      return collect(outputs, Array.isArray(ys) ? ys : [ys], Object.values(xs));
    },
    async close() {
      model.dispose();
    },
  };
}

async function collect(
  specs: readonly TensorSpec[],
  ys: tf.Tensor[],
  xs: tf.Tensor[],
): Promise<NamedTensors> {
  try {
    const out: Record<string, HostTensor> = {};
    for (let i = 0; i < specs.length; i++) out[specs[i]!.name] = await fromTf(ys[i]!, specs[i]!.name);
    return out;
  } finally {
    tf.dispose([...ys, ...xs]);
  }
}
