import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeNDArrayList, encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { OnnxGraphBuilder } from '../../src/io/onnx-builder.js';
import type { RecordBatch } from '../../src/io/records.js';
import { InputError } from '../../src/util/errors.js';
import { smkitVersion } from '../../src/util/version.js';
import type { Predictions, Predictor } from '../types.js';
import type { PcaHyperparameters } from './hyperparameters.js';
import { type ProjectionWeights, project } from './math/solve.js';
import { assertPredictable } from '../predict-input.js';

/** SageMaker's model file name: an MXNet NDArray list with named arrays `mean`, `s`, `v`. */
export const MODEL_FILE = 'model_algo-1';
/** The same model as an ONNX graph (features -> projection). */
export const ONNX_FILE = 'model.onnx';
/** A JSON description of how the model was trained. */
export const DESCRIPTION_FILE = 'model.json';

/** A PCA model as stored in `model_algo-1`. */
export interface PcaModelFile extends ProjectionWeights {
  /** 1 x d when the mean was subtracted, else undefined. */
  readonly mean: Float32Array | Float64Array | undefined;
  /** Singular values, ascending (num_components). */
  readonly s: Float32Array | Float64Array;
  /** d x num_components, row-major; column j goes with s[j]. */
  readonly v: Float32Array | Float64Array;
}

/** The contents of model.json. */
export interface PcaModelDescription {
  readonly algorithm: 'pca';
  readonly smkit_version: string;
  readonly feature_dim: number;
  readonly num_components: number;
  readonly hyperparameters: PcaHyperparameters;
  readonly metrics: Readonly<Record<string, number | readonly number[]>>;
  readonly files: Readonly<Record<string, string>>;
}

/**
 * Encodes `model_algo-1` as SageMaker's PCA writes it: float32 arrays named `mean` (1 x d, only
 * with subtract_mean), `s` (num_components) and `v` (d x num_components).
 */
export function encodeModelFile(model: PcaModelFile): Buffer {
  const { dim: d, numComponents: k } = model;
  const arrays = [];
  const names = [];
  if (model.mean) {
    arrays.push({ shape: [1, d], data: Float32Array.from(model.mean) });
    names.push('mean');
  }
  arrays.push(
    { shape: [k], data: Float32Array.from(model.s) },
    { shape: [d, k], data: Float32Array.from(model.v) },
  );
  names.push('s', 'v');
  return encodeNDArrayList({ arrays, names });
}

/**
 * Decodes a PCA `model_algo-1` (smkit's or SageMaker's; float32 or float64; `mean` as 1 x d or d).
 * @param what names the file in error messages.
 */
export function decodeModelFile(bytes: Buffer, what = MODEL_FILE): PcaModelFile {
  const list = decodeNDArrayList(bytes, what);
  const byName = new Map(list.names.map((name, i) => [name, list.arrays[i]!]));
  const v = byName.get('v');
  const s = byName.get('s');
  if (!v || !s) {
    throw new InputError(
      `${what}: a PCA model needs arrays named 's' and 'v' (found ${list.names.length ? list.names.join(', ') : 'unnamed arrays'}): is this a k-means model?`,
    );
  }
  if (v.shape.length !== 2)
    throw new InputError(
      `${what}: 'v' must be 2-D (feature_dim x num_components), got shape ${v.shape.join('x')}`,
    );
  const [d, k] = v.shape as [number, number];
  if (s.data.length !== k)
    throw new InputError(`${what}: 's' has ${s.data.length} values for ${k} components in 'v'`);
  const mean = byName.get('mean');
  if (mean && mean.data.length !== d) {
    throw new InputError(`${what}: 'mean' has ${mean.data.length} values, 'v' has ${d} rows`);
  }
  return { dim: d, numComponents: k, mean: mean?.data, s: s.data, v: v.data };
}

/** model.onnx: `features` [N, d] in, `projection` [N, num_components] = (features - mean) . v out. */
export function buildInferenceModel(
  model: PcaModelFile,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const { dim: d, numComponents: k } = model;
  const g = new OnnxGraphBuilder('pca');
  let x = g.input('features', 'float32', ['N', d]);
  if (model.mean) {
    const mean = g.initializer('mean', {
      type: 'float32',
      dims: [1, d],
      data: Float32Array.from(model.mean),
    });
    x = g.op('Sub', [x, mean]);
  }
  const v = g.initializer('v', { type: 'float32', dims: [d, k], data: Float32Array.from(model.v) });
  g.output(g.op('MatMul', [x, v]), 'float32', ['N', k], 'projection');
  return g.build({
    docString: 'SageMaker-compatible PCA: projection = (features - mean) . v, components in ascending order.',
    metadata,
  });
}

/**
 * Writes model_algo-1, model.onnx and model.json into `dir`. Each file is written under a temporary
 * name first and renamed at the end, so a failure leaves no partial model behind.
 */
export async function writeModelFiles(
  dir: string,
  model: PcaModelFile,
  hyperparameters: PcaHyperparameters,
  metrics: PcaModelDescription['metrics'],
): Promise<void> {
  const description: PcaModelDescription = {
    algorithm: 'pca',
    smkit_version: smkitVersion(),
    feature_dim: model.dim,
    num_components: model.numComponents,
    hyperparameters,
    metrics,
    files: {
      [MODEL_FILE]:
        'MXNet NDArray list: float32 mean (1 x feature_dim, when subtract_mean), s (num_components, ascending), v (feature_dim x num_components)',
      [ONNX_FILE]:
        'ONNX: features [N, feature_dim] -> projection [N, num_components] = (features - mean) . v',
    },
  };
  const files: [string, Uint8Array | string][] = [
    [MODEL_FILE, encodeModelFile(model)],
    [ONNX_FILE, buildInferenceModel(model, { algorithm: 'pca', smkit_version: description.smkit_version })],
    [DESCRIPTION_FILE, `${JSON.stringify(description, null, 2)}\n`],
  ];
  const temporary = (name: string) => path.join(dir, `.${name}.partial`);
  try {
    for (const [name, bytes] of files) await writeFile(temporary(name), bytes);
    for (const [name] of files) await rename(temporary(name), path.join(dir, name));
  } finally {
    await Promise.all(files.map(([name]) => rm(temporary(name), { force: true })));
  }
}

/** Reads a model directory: `model_algo-1` is the model (smkit's or SageMaker's). */
export async function readModelDir(dir: string): Promise<PcaModelFile> {
  const file = path.join(dir, MODEL_FILE);
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) {
    throw new InputError(`no PCA model found in ${dir}: expected ${MODEL_FILE} (an MXNet NDArray file)`);
  }
  return decodeModelFile(await readFile(file), file);
}

/** SageMaker's PCA inference output: `projection` per record, under the JSON root `projections`. */
export function createPredictor(model: PcaModelFile): Predictor {
  return {
    featureDim: model.dim,
    jsonRootKey: 'projections',
    fields: [{ name: 'projection', width: model.numComponents, scalar: false }],
    async predict(batch: RecordBatch): Promise<Predictions> {
      assertPredictable(batch, model.dim);
      return { rows: batch.rows, columns: { projection: project(model, batch.values, batch.rows) } };
    },
  };
}
