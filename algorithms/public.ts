/**
 * `smkit/algorithms`: smkit's built-in algorithms and what you need to write your own: the
 * `Algorithm` types, the hyperparameter field parsers, SageMaker's metric lines and definitions,
 * and the sharded-training driver k-means and PCA use. Pass your algorithm to `runTrainingJob`
 * (`smkit/train`) and to `createBuiltinModelKind` (`smkit`) to train and serve it.
 *
 * ```ts
 * import { hyperparameterSchema, integerField, type Algorithm } from 'smkit/algorithms';
 * const mean: Algorithm<{ feature_dim: number }> = {
 *   name: 'mean',
 *   hyperparameters: hyperparameterSchema({ fields: { feature_dim: { parse: integerField({ min: 1 }) } } }),
 *   ...
 * };
 * ```
 */
export {
  type EnumFieldOptions,
  type FieldParser,
  HyperparameterError,
  type HyperparameterField,
  type HyperparameterFields,
  type HyperparameterSchemaOptions,
  type IntegerFieldOptions,
  booleanField,
  enumField,
  floatField,
  hyperparameterSchema,
  integerField,
  listField,
  plainHyperparameterText,
} from '../src/contract/hyperparameter-fields.js';
export {
  type MetricDefinition,
  type MetricsRecord,
  formatMetricValue,
  metricsJsonLine,
  progressMetricDefinition,
  progressMetricLine,
  qualityMetricDefinition,
  qualityMetricLine,
  throughputMetricDefinition,
  throughputMetricLine,
} from '../src/contract/metric-lines.js';
export { BUILTIN_MODEL_FILE, readBuiltinArrays } from './builtin-model.js';
export { algorithmNames, builtinAlgorithms, findAlgorithm } from './index.js';
export { type KMeansHyperparameters, KMeansHyperparametersSchema, kmeans } from './kmeans/index.js';
export { type PcaHyperparameters, PcaHyperparametersSchema, pca } from './pca/index.js';
export { assertPredictable } from './predict-input.js';
export {
  type FinishedModel,
  requireChannel,
  type ShardedTraining,
  trainingDimensions,
  trainOnShards,
} from './sharded-training.js';
/** The `Algorithm` interface and everything its context and predictor are made of. */
export type * from './types.js';
