import {
  progressMetricDefinition,
  qualityMetricDefinition,
  throughputMetricDefinition,
} from '../../src/contract/metric-lines.js';
import { BUILTIN_MODEL_FILE, readBuiltinArrays } from '../builtin-model.js';
import type { Algorithm } from '../types.js';
import { type KMeansHyperparameters, KMeansHyperparametersSchema } from './hyperparameters.js';

export { KMeansHyperparametersSchema, type KMeansHyperparameters } from './hyperparameters.js';

/**
 * SageMaker's built-in k-means, as a drop-in replacement. This descriptor is cheap to import; the
 * training code loads when a job trains or a server loads a model (onnxruntime only for training).
 */
export const kmeans: Algorithm<KMeansHyperparameters> = {
  name: 'kmeans',
  hyperparameters: KMeansHyperparametersSchema,
  metricDefinitions: Object.freeze([
    qualityMetricDefinition('train', 'msd'),
    qualityMetricDefinition('test', 'msd'),
    qualityMetricDefinition('test', 'ssd'),
    progressMetricDefinition(),
    throughputMetricDefinition('train'),
  ]),
  model: {
    files: [BUILTIN_MODEL_FILE],
    expects: 'one unnamed (k, feature_dim) array (k-means)',
    async recognize(modelDir) {
      const list = await readBuiltinArrays(modelDir);
      return (
        list !== undefined &&
        list.arrays.length === 1 &&
        list.arrays[0]!.shape.length === 2 &&
        list.names.length <= 1
      );
    },
  },
  // SageMaker's own JSON Lines answers list distance first (`{"distance_to_cluster": 23.4, "closest_cluster": 0.0}`).
  responseFieldOrder: { 'application/jsonlines': ['distance_to_cluster', 'closest_cluster'] },
  train: async (context) => (await import('./train.js')).train(context),
  load: async (modelDir) => (await import('./train.js')).loadPredictor(modelDir),
};

export default kmeans;
