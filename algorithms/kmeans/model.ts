import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeNDArrayList, encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import type { RecordBatch } from '../../src/io/records.js';
import { readModelFile } from '../../src/io/small-file.js';
import { InputError } from '../../src/util/errors.js';
import { smkitVersion } from '../../src/util/version.js';
import type { Predictions, Predictor } from '../types.js';
import type { KMeansHyperparameters } from './hyperparameters.js';
import type { Assigner } from './math/assign.js';
import { buildInferenceModel } from './onnx-graph.js';
import { assertPredictable } from '../predict-input.js';

/** SageMaker's model file name: an MXNet NDArray list with one unnamed float32 k x d array. */
export const MODEL_FILE = 'model_algo-1';
/** The same model as an ONNX graph (features -> closest_cluster, distance_to_cluster). */
export const ONNX_FILE = 'model.onnx';
/** A JSON description of how the model was trained. */
export const DESCRIPTION_FILE = 'model.json';

/** Final k-means centroids. */
export interface KMeansModel {
  readonly k: number;
  readonly dim: number;
  /** k x dim, row-major. */
  readonly centroids: Float32Array;
}

/** The contents of model.json. */
export interface KMeansModelDescription {
  readonly algorithm: 'kmeans';
  readonly smkit_version: string;
  readonly feature_dim: number;
  readonly k: number;
  readonly hyperparameters: KMeansHyperparameters;
  /** Final metrics by name: `train:msd`, `test:msd`, `test:ssd`. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, string>>;
}

/** Encodes `model_algo-1` exactly as `mx.nd.save('model_algo-1', [centroids])` does. */
export function encodeModelFile(model: KMeansModel): Buffer {
  return encodeNDArrayList({ arrays: [{ shape: [model.k, model.dim], data: model.centroids }], names: [] });
}

/**
 * Decodes a k-means `model_algo-1` (smkit's or SageMaker's, V2/V1/legacy layouts, float32 or float64).
 * @param what names the file in error messages.
 */
export function decodeModelFile(bytes: Buffer, what = MODEL_FILE): KMeansModel {
  const list = decodeNDArrayList(bytes, what);
  if (list.names.length) {
    throw new InputError(
      `${what} holds named arrays (${list.names.join(', ')}), not k-means centroids: is this a PCA model?`,
    );
  }
  const array = list.arrays[0];
  if (list.arrays.length !== 1 || !array || array.shape.length !== 2) {
    throw new InputError(
      `${what}: expected one k x feature_dim array of centroids, found ${list.arrays.length} array(s)` +
        (array ? ` (first of shape ${array.shape.join('x')})` : ''),
    );
  }
  const [k, dim] = array.shape as [number, number];
  if (k < 1 || dim < 1) throw new InputError(`${what}: empty centroid array of shape ${k}x${dim}`);
  const centroids = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
  return { k, dim, centroids };
}

/** Writes model_algo-1, model.onnx and model.json into `dir` (the last step of training). */
export async function writeModelFiles(
  dir: string,
  model: KMeansModel,
  hyperparameters: KMeansHyperparameters,
  metrics: Readonly<Record<string, number>>,
): Promise<void> {
  const description: KMeansModelDescription = {
    algorithm: 'kmeans',
    smkit_version: smkitVersion(),
    feature_dim: model.dim,
    k: model.k,
    hyperparameters,
    metrics,
    files: {
      [MODEL_FILE]: 'MXNet NDArray list: one float32 k x feature_dim array of centroids (SageMaker layout)',
      [ONNX_FILE]: 'ONNX: features [N, feature_dim] -> closest_cluster [N] (float), distance_to_cluster [N]',
    },
  };
  const onnx = buildInferenceModel(model.centroids, model.k, model.dim, {
    algorithm: 'kmeans',
    smkit_version: description.smkit_version,
  });
  await writeFile(path.join(dir, MODEL_FILE), encodeModelFile(model));
  await writeFile(path.join(dir, ONNX_FILE), onnx);
  await writeFile(path.join(dir, DESCRIPTION_FILE), `${JSON.stringify(description, null, 2)}\n`);
}

/** Reads a model directory: `model_algo-1` is the model; model.json and model.onnx are optional. */
export async function readModelDir(dir: string): Promise<KMeansModel> {
  const file = path.join(dir, MODEL_FILE);
  const found = statSync(file, { throwIfNoEntry: false });
  if (!found?.isFile()) {
    throw new InputError(`no k-means model found in ${dir}: expected ${MODEL_FILE} (an MXNet NDArray file)`);
  }
  return decodeModelFile(await readModelFile(file), file);
}

/** Nearest centroid and Euclidean distance per record, SageMaker's k-means inference outputs. */
export function createPredictor(model: KMeansModel, assigner: Assigner): Predictor {
  return {
    featureDim: model.dim,
    jsonRootKey: 'predictions',
    fields: [
      { name: 'closest_cluster', width: 1, scalar: true },
      { name: 'distance_to_cluster', width: 1, scalar: true },
    ],
    async predict(batch: RecordBatch): Promise<Predictions> {
      assertPredictable(batch, model.dim);
      const { labels, distances } = await assigner.assign(
        batch.values,
        batch.rows,
        model.centroids,
        model.k,
        model.dim,
      );
      const closest = new Float32Array(batch.rows);
      const distance = new Float32Array(batch.rows);
      for (let i = 0; i < batch.rows; i++) {
        closest[i] = labels[i]!;
        distance[i] = Math.sqrt(distances[i]!);
      }
      return { rows: batch.rows, columns: { closest_cluster: closest, distance_to_cluster: distance } };
    },
    close: () => assigner.close(),
  };
}
