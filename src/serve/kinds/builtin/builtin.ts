import { readFile } from 'node:fs/promises';
import path from 'node:path';
import '../../../../algorithms/index.js';
import { findAlgorithm } from '../../../../algorithms/registry.js';
import { decodeNDArrayList } from '../../../io/mxnet-ndarray.js';
import { InputError } from '../../../util/errors.js';
import { exists, type ModelKind } from '../kind.js';
import type { ModelHandler } from '../../handler.js';
import { createPredictorHandler } from './predictor.js';

/** The artifact SageMaker's built-in algorithms (and smkit's) write. */
export const BUILTIN_MODEL_FILE = 'model_algo-1';

/**
 * SageMaker's own JSON Lines answers list k-means fields distance first
 * (`{"distance_to_cluster": 23.4, "closest_cluster": 0.0}`), unlike its JSON answers.
 */
const FIELD_ORDER: Record<string, Record<string, readonly string[]>> = {
  kmeans: { 'application/jsonlines': ['distance_to_cluster', 'closest_cluster'] },
};

/**
 * Which built-in algorithm wrote a model directory: `model.json` `{"algorithm": "kmeans"}` when present;
 * otherwise the NDArray list itself: named `mean`/`s`/`v` arrays are PCA, one unnamed 2-D array is k-means.
 */
export async function identifyBuiltinModel(modelDir: string): Promise<string> {
  const meta = path.join(modelDir, 'model.json');
  if (await exists(meta)) {
    try {
      const algorithm = (JSON.parse(await readFile(meta, 'utf8')) as { algorithm?: unknown }).algorithm;
      if (typeof algorithm === 'string') return algorithm;
    } catch {
      // Not smkit's metadata (e.g. a TF.js model next to it): identify by the arrays.
    }
  }
  const file = path.join(modelDir, BUILTIN_MODEL_FILE);
  const list = decodeNDArrayList(await readFile(file), file);
  const names = new Set(list.names);
  if (names.has('v') && names.has('s')) return 'pca';
  if (list.arrays.length === 1 && list.arrays[0]!.shape.length === 2 && list.names.length <= 1)
    return 'kmeans';
  throw new InputError(
    `${file}: cannot tell which built-in algorithm wrote it (${list.arrays.length} arrays` +
      `${list.names.length ? ` named ${list.names.join(', ')}` : ''}); expected one unnamed (k, feature_dim) ` +
      'array (k-means) or arrays named mean, s, v (PCA)',
  );
}

/** Loads a built-in algorithm's model through the algorithm registry. */
export async function loadBuiltinModel(modelDir: string): Promise<ModelHandler> {
  const name = await identifyBuiltinModel(modelDir);
  const algorithm = await findAlgorithm(name);
  if (!algorithm) {
    throw new InputError(
      `${modelDir} holds a ${name} model, but this smkit has no built-in ${name} algorithm`,
    );
  }
  const predictor = await algorithm.load(modelDir);
  return createPredictorHandler(name, predictor, { fieldOrder: FIELD_ORDER[name] ?? {} });
}

/** The model kind for `model_algo-1` (SageMaker's or smkit's built-in k-means and PCA). */
export const builtinModelKind: ModelKind = {
  name: 'builtin',
  marker: BUILTIN_MODEL_FILE,
  worker: { module: import.meta.url, exportName: 'loadBuiltinModel' },
  detect: (modelDir) => exists(path.join(modelDir, BUILTIN_MODEL_FILE)),
  load: (modelDir) => loadBuiltinModel(modelDir),
};
