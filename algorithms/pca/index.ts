import { progressMetricDefinition, throughputMetricDefinition } from '../../src/contract/metric-lines.js';
import { BUILTIN_MODEL_FILE, readBuiltinArrays } from '../builtin-model.js';
import type { Algorithm } from '../types.js';
import { type PcaHyperparameters, PcaHyperparametersSchema } from './hyperparameters.js';

export { PcaHyperparametersSchema, type PcaHyperparameters } from './hyperparameters.js';

/**
 * SageMaker's built-in PCA, as a drop-in replacement. This descriptor is cheap to import; the math
 * and onnxruntime load when a job trains or a server loads a model.
 */
export const pca: Algorithm<PcaHyperparameters> = {
  name: 'pca',
  hyperparameters: PcaHyperparametersSchema,
  metricDefinitions: Object.freeze([progressMetricDefinition(), throughputMetricDefinition('train')]),
  model: {
    files: [BUILTIN_MODEL_FILE],
    expects: 'arrays named mean, s, v (PCA)',
    async recognize(modelDir) {
      const names = new Set((await readBuiltinArrays(modelDir))?.names);
      return names.has('v') && names.has('s');
    },
  },
  train: async (context) => (await import('./train.js')).train(context),
  load: async (modelDir) => (await import('./train.js')).loadPredictor(modelDir),
};

export default pca;
