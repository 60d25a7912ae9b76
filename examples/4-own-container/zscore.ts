/**
 * An algorithm of your own through smkit's public `Algorithm` interface: learns each feature's mean
 * and standard deviation; predicts `score`, the largest |z| of a record's features (an outlier score).
 * Trained with `smkit_algorithm=zscore`; served by the built-in kind made from the same list.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Algorithm,
  hyperparameterSchema,
  integerField,
  qualityMetricDefinition,
  requireChannel,
} from 'smkit/algorithms';

const MODEL_FILE = 'zscore.json';

interface ZScoreHyperparameters {
  readonly feature_dim: number;
  readonly mini_batch_size: number;
}

export const zscore: Algorithm<ZScoreHyperparameters> = {
  name: 'zscore',
  hyperparameters: hyperparameterSchema<ZScoreHyperparameters>({
    fields: {
      feature_dim: { parse: integerField({ min: 1 }) },
      mini_batch_size: { parse: integerField({ min: 1 }), default: '500' },
    },
  }),
  metricDefinitions: [qualityMetricDefinition('train', 'records')],
  model: {
    files: [MODEL_FILE],
    expects: `${MODEL_FILE} (zscore)`,
    recognize: (modelDir) =>
      access(path.join(modelDir, MODEL_FILE)).then(
        () => true,
        () => false,
      ),
  },
  async train(context) {
    requireChannel(context, 'train', 'zscore');
    const { feature_dim: dim, mini_batch_size: batchSize } = context.hyperparameters;
    const sums = new Float64Array(dim);
    const squares = new Float64Array(dim);
    let records = 0;
    for await (const batch of context.channels.open('train', { batchSize, featureDim: dim })) {
      for (let i = 0; i < batch.rows * dim; i++) {
        sums[i % dim]! += batch.values[i]!;
        squares[i % dim]! += batch.values[i]! ** 2;
      }
      records += batch.rows;
    }
    context.metrics.quality('train', 'records', records);
    const mean = [...sums].map((sum) => sum / records);
    const std = [...squares].map((square, j) => Math.sqrt(square / records - mean[j]! ** 2));
    await writeFile(path.join(context.modelDir, MODEL_FILE), JSON.stringify({ mean, std }));
  },
  async load(modelDir) {
    const { mean, std } = JSON.parse(await readFile(path.join(modelDir, MODEL_FILE), 'utf8')) as {
      mean: number[];
      std: number[];
    };
    return {
      featureDim: mean.length,
      jsonRootKey: 'predictions',
      fields: [{ name: 'score', width: 1, scalar: true }],
      async predict(batch) {
        const scores = new Float32Array(batch.rows);
        for (let row = 0; row < batch.rows; row++) {
          for (let j = 0; j < batch.dim; j++) {
            const z = Math.abs(batch.values[row * batch.dim + j]! - mean[j]!) / (std[j]! || 1);
            scores[row] = Math.max(scores[row]!, z);
          }
        }
        return { rows: batch.rows, columns: { score: scores } };
      },
    };
  },
};
