// A user's own algorithm, defined here and nowhere else, trained by the real runner on a real job tree
// and served over HTTP through the public entries (smkit/algorithms, smkit/train, smkit).
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type Algorithm,
  builtinAlgorithms,
  hyperparameterSchema,
  integerField,
  qualityMetricDefinition,
  requireChannel,
} from '../../algorithms/public.js';
import {
  builtinModelKind,
  createApp,
  createBuiltinModelKind,
  listen,
  readServingSettings,
  type RunningServer,
} from '../../src/index.js';
import { runTrainingJob } from '../../src/train/index.js';
import { createJobTree, readFailure } from '../train/job-tree.js';

const MODEL_FILE = 'feature-mean.json';

interface MeanHyperparameters {
  readonly feature_dim: number;
  readonly mini_batch_size: number;
}

/** Learns the mean of every feature; predicts each record's Euclidean distance to it. */
const featureMean: Algorithm<MeanHyperparameters> = {
  name: 'feature-mean',
  hyperparameters: hyperparameterSchema<MeanHyperparameters>({
    fields: {
      feature_dim: { parse: integerField({ min: 1 }) },
      mini_batch_size: { parse: integerField({ min: 1 }), default: '2' },
    },
  }),
  metricDefinitions: [qualityMetricDefinition('train', 'records')],
  model: {
    files: [MODEL_FILE],
    expects: `${MODEL_FILE} (feature-mean)`,
    recognize: (modelDir) =>
      access(path.join(modelDir, MODEL_FILE)).then(
        () => true,
        () => false,
      ),
  },
  async train(context) {
    requireChannel(context, 'train', 'feature-mean');
    const { feature_dim: dim, mini_batch_size: batchSize } = context.hyperparameters;
    const sums = new Float64Array(dim);
    let records = 0;
    for await (const batch of context.channels.open('train', { batchSize, featureDim: dim })) {
      for (let i = 0; i < batch.rows * dim; i++) sums[i % dim]! += batch.values[i]!;
      records += batch.rows;
    }
    context.metrics.quality('train', 'records', records);
    const mean = [...sums].map((sum) => sum / records);
    await writeFile(path.join(context.modelDir, MODEL_FILE), JSON.stringify({ mean }));
  },
  async load(modelDir) {
    const { mean } = JSON.parse(await readFile(path.join(modelDir, MODEL_FILE), 'utf8')) as {
      mean: number[];
    };
    return {
      featureDim: mean.length,
      jsonRootKey: 'predictions',
      fields: [{ name: 'distance_to_mean', width: 1, scalar: true }],
      async predict(batch) {
        const distances = new Float32Array(batch.rows);
        for (let row = 0; row < batch.rows; row++) {
          let sum = 0;
          for (let j = 0; j < batch.dim; j++) sum += (batch.values[row * batch.dim + j]! - mean[j]!) ** 2;
          distances[row] = Math.sqrt(sum);
        }
        return { rows: batch.rows, columns: { distance_to_mean: distances } };
      },
    };
  },
};

const algorithms = [...builtinAlgorithms, featureMean];
const log = pino({ level: 'silent' });
const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

async function trainJob(list: readonly Algorithm[]) {
  const paths = await createJobTree({
    hyperparameters: { smkit_algorithm: 'feature-mean', feature_dim: '"2"' },
    inputDataConfig: {
      train: { ContentType: 'text/csv', TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated' },
    },
    data: { 'train/part-0.csv': '1,2\n3,4\n5,9\n' },
  });
  const code = await runTrainingJob({ env: { SAGEMAKER_BASE_DIR: paths.base }, log, algorithms: list });
  return { paths, code };
}

describe('an algorithm of your own, through the public API', { timeout: 60_000 }, () => {
  test('trains with the real runner on a job tree and answers /invocations over HTTP', async () => {
    const { paths, code } = await trainJob(algorithms);
    expect(code, await readFailure(paths)).toBe(0);
    expect(JSON.parse(await readFile(path.join(paths.model, MODEL_FILE), 'utf8'))).toEqual({ mean: [3, 5] });

    const kind = createBuiltinModelKind(algorithms);
    const settings = readServingSettings({});
    expect(await kind.detect(paths.model, { settings, log, kinds: [kind] })).toBe(true);
    const app = createApp({
      loadHandler: () => kind.load(paths.model, { settings, log, kinds: [kind] }),
      settings,
      log,
    });
    const server = await listen(app, { port: 0, host: '127.0.0.1' });
    servers.push(server);
    await app.loaded;

    const response = await fetch(`http://127.0.0.1:${server.port}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', accept: 'application/json' },
      body: '3,5\n6,9\n',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).toBe(
      '{"predictions": [{"distance_to_mean": 0.0}, {"distance_to_mean": 5.0}]}',
    );

    const wrong = await fetch(`http://127.0.0.1:${server.port}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: '1,2,3\n',
    });
    expect(wrong.status).toBe(400);
  });

  test('nothing is registered globally: without the algorithm in the list, neither side knows it', async () => {
    const { paths, code } = await trainJob(builtinAlgorithms);
    expect(code).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^unknown algorithm 'feature-mean' \(smkit_algorithm \/ SMKIT_ALGORITHM\); built-in algorithms: kmeans, pca/,
    );
    const trained = await trainJob(algorithms);
    const settings = readServingSettings({});
    expect(
      await builtinModelKind.detect(trained.paths.model, { settings, log, kinds: [builtinModelKind] }),
    ).toBe(false);
  });
});
