import { mkdir } from 'node:fs/promises';
import { writeReport } from '../../src/report/index.js';
import { clusterExchangeOptions, type SummaryCodec, exchangeSummaries } from '../../src/train/exchange.js';
import {
  metricsJsonLine,
  progressMetricLine,
  qualityMetricLine,
  throughputMetricLine,
} from '../../src/contract/metric-lines.js';
import { InputError } from '../../src/util/errors.js';
import type { Algorithm, TrainContext } from '../types.js';
import { type KMeansHyperparameters, KMeansHyperparametersSchema } from './hyperparameters.js';
import type { Assigner } from './math/assign.js';
import { localLloyd, localLloydTrials } from './math/lloyd.js';
import { createOnnxAssigner, createWarmingOnnxAssigner } from './math/onnx-assigner.js';
import { SquaredDistanceScore } from './math/score.js';
import { type KMeansModel, createPredictor, readModelDir, writeModelFiles } from './model.js';
import { kmeansReport } from './report.js';
import { type ShardSummary, checkBatch, lloydPass, mergeSummaries, streamShard } from './stream.js';

export { KMeansHyperparametersSchema, type KMeansHyperparameters } from './hyperparameters.js';

/** The `Algorithm` dimension of SageMaker's k-means `#metrics` lines. */
const ALGORITHM_DIMENSION = 'AWS/KMeansWebscale';
/** Fixed so that a job is reproducible; SageMaker's image takes no seed either. */
const SEED = 0x5eed;
/** Rows of training data drawn for the report's 2-D picture. */
const REPORT_SAMPLE_ROWS = 1000;

const summaryCodec: SummaryCodec<ShardSummary> = {
  encode: (s) => ({
    meta: { dim: s.dim, records: s.records, epochLosses: s.epochLosses },
    arrays: { centers: s.centers, weights: s.weights },
  }),
  decode: (wire, host) => {
    const meta = wire.meta as { dim?: unknown; records?: unknown; epochLosses?: unknown };
    const { centers, weights } = wire.arrays;
    if (
      typeof meta?.dim !== 'number' ||
      typeof meta.records !== 'number' ||
      !Array.isArray(meta.epochLosses) ||
      !centers ||
      !weights ||
      centers.length !== weights.length * meta.dim
    ) {
      throw new InputError(`the k-means summary of ${host} is malformed`);
    }
    return {
      dim: meta.dim,
      records: meta.records,
      epochLosses: meta.epochLosses.map((v) => (typeof v === 'number' ? v : Number.NaN)),
      centers,
      weights,
    };
  },
};

/** Reduces the merged streaming centers to k: weighted local Lloyd, or nothing when there are exactly k. */
async function reduceCenters(
  merged: ShardSummary,
  hp: KMeansHyperparameters,
  assigner: Assigner,
  log: TrainContext<KMeansHyperparameters>['log'],
): Promise<{ centroids: Float32Array; loss: number; clusterSizes: Float64Array }> {
  const count = merged.weights.length;
  if (count === hp.k) {
    log.info('No shrinking is required');
    return { centroids: Float32Array.from(merged.centers), loss: 0, clusterSizes: merged.weights };
  }
  log.info(`shrinking ${count} centers into ${hp.k}`);
  const result = await localLloyd(
    merged.centers,
    merged.weights,
    merged.dim,
    {
      k: hp.k,
      maxIter: hp.local_lloyd_max_iter,
      tol: hp.local_lloyd_tol,
      initMethod: hp.local_lloyd_init_method,
      trials:
        hp.local_lloyd_num_trials === 'auto'
          ? localLloydTrials(count, hp.k, merged.dim)
          : hp.local_lloyd_num_trials,
      seed: SEED,
    },
    assigner,
  );
  for (const [i, loss] of result.attempts.entries()) {
    log.info(`local kmeans attempt #${i}. Current mean square distance ${loss.toFixed(6)}`);
  }
  return {
    centroids: Float32Array.from(result.centers),
    loss: result.loss,
    clusterSizes: result.clusterWeights,
  };
}

/** Scores the `test` channel with the final model: msd and ssd of the squared distances. */
async function scoreTest(
  context: TrainContext<KMeansHyperparameters>,
  model: KMeansModel,
  assigner: Assigner,
): Promise<SquaredDistanceScore> {
  const hp = context.hyperparameters;
  const score = new SquaredDistanceScore();
  const stream = context.channels.open('test', { batchSize: hp.mini_batch_size, featureDim: hp.feature_dim });
  for await (const batch of stream) {
    context.signal.throwIfAborted();
    if (batch.rows === 0) continue;
    checkBatch(batch, 'test', hp.feature_dim, score.count);
    const { distances } = await assigner.assign(
      batch.values,
      batch.rows,
      model.centroids,
      model.k,
      model.dim,
    );
    score.add(distances, batch.rows);
  }
  if (score.count === 0) throw new InputError('test channel has no records: remove the channel or add data');
  return score;
}

async function train(context: TrainContext<KMeansHyperparameters>): Promise<void> {
  const hp = context.hyperparameters;
  const { log, metrics, cluster } = context;
  const host = cluster.current;
  if (!context.channels.has('train')) {
    throw new InputError(
      `k-means needs a 'train' channel (channels given: ${context.channels.names.join(', ') || 'none'})`,
    );
  }
  const started = Date.now();
  const dimensions = { Host: host, Operation: 'training', Algorithm: ALGORITHM_DIMENSION };
  const assigner = await createOnnxAssigner();
  try {
    let sample: Awaited<ReturnType<typeof streamShard>>['sample'] | undefined;
    let totalRecords = 0;
    const summaries = await exchangeSummaries(
      async () => {
        const result = await streamShard({
          hyperparameters: hp,
          open: (epoch) =>
            context.channels.open('train', {
              batchSize: hp.mini_batch_size,
              featureDim: hp.feature_dim,
              epoch,
            }),
          channel: 'train',
          assigner,
          seed: SEED + cluster.hosts.indexOf(host),
          sampleSize: cluster.isLeader ? REPORT_SAMPLE_ROWS : 0,
          signal: context.signal,
          events: {
            onInitialized: (records, centers) => {
              const now = Date.now() / 1000;
              log.info(`initialized ${centers} streaming centers from the first ${records} records`);
              metrics.line(
                metricsJsonLine({
                  startTime: now,
                  endTime: now,
                  dimensions: { ...dimensions, Meta: 'init_train_data_iter' },
                  metrics: { 'Total Records Seen': records, 'Total Batches Seen': 1 },
                }),
              );
            },
            onEpoch: (epoch, records, batches, seconds) => {
              totalRecords += records;
              const now = Date.now() / 1000;
              metrics.line(progressMetricLine(host, ((epoch + 1) / hp.epochs) * 100));
              metrics.line(
                metricsJsonLine({
                  startTime: now - seconds,
                  endTime: now,
                  dimensions: { ...dimensions, Meta: 'training_data_iter', epoch },
                  metrics: {
                    'Number of Records Since Last Reset': records,
                    'Number of Batches Since Last Reset': batches,
                    'Total Records Seen': totalRecords,
                  },
                }),
              );
            },
          },
        });
        sample = result.sample;
        const throughput = result.seconds > 0 ? totalRecords / result.seconds : 0;
        metrics.line(throughputMetricLine(host, 'train', Math.round(throughput * 100) / 100));
        return result.summary;
      },
      summaryCodec,
      clusterExchangeOptions(context, 'kmeans'),
    );
    if (!summaries) {
      log.info('summary sent to the leader, which writes the model');
      return;
    }
    const merged = mergeSummaries(summaries);
    if (merged.records === 0) {
      throw new InputError('train channel has no records: check the channel S3 prefix and ContentType');
    }
    if (merged.records < hp.k) {
      throw new InputError(
        `k=${hp.k} is larger than the number of training records (${merged.records}): lower k or add data`,
      );
    }
    const shrinkStarted = Date.now();
    const reduced = await reduceCenters(merged, hp, assigner, log);
    const shrinkMs = Date.now() - shrinkStarted;
    let centroids = reduced.centroids;
    let clusterSizes = reduced.clusterSizes;
    const streamingMsd = merged.epochLosses.at(-1) ?? Number.NaN;
    // Pipe mode is left alone: a FIFO beyond the epochs the user asked for may never come.
    const pipe = context.channels.config('train').TrainingInputMode === 'Pipe';
    if (cluster.hosts.length === 1 && !pipe && streamingMsd > reduced.loss) {
      // The records around one streaming center are spread wider than the final clusters are apart, so
      // whole streaming centers are too coarse to move between clusters: one Lloyd pass over the data
      // re-splits them (k=100 on 1M x 50 blobs: 1.3% lower data MSD for one more read of the channel).
      const pass = await lloydPass({
        open: () =>
          context.channels.open('train', {
            batchSize: hp.mini_batch_size,
            featureDim: hp.feature_dim,
            epoch: hp.epochs,
          }),
        channel: 'train',
        dim: hp.feature_dim,
        centroids,
        assigner,
        signal: context.signal,
      });
      log.info(
        `refined the centroids with one Lloyd pass over the data (data msd before the pass ${pass.msd}; ` +
          `streaming msd ${streamingMsd} > reduction msd ${reduced.loss})`,
      );
      centroids = pass.centroids;
      clusterSizes = pass.counts;
    }
    const model: KMeansModel = { k: hp.k, dim: hp.feature_dim, centroids };
    const finalMetrics: Record<string, number> = { 'train:msd': reduced.loss };
    metrics.line(qualityMetricLine(host, 'train', 'msd', reduced.loss));

    if (context.channels.has('test')) {
      const score = await scoreTest(context, model, assigner);
      for (const metric of hp.eval_metrics) {
        const value = metric === 'msd' ? score.msd : score.ssd;
        finalMetrics[`test:${metric}`] = value;
        metrics.line(qualityMetricLine(host, 'test', metric, value));
      }
    } else {
      log.info('Test data is not provided.');
    }

    await mkdir(context.paths.model, { recursive: true });
    await writeModelFiles(context.paths.model, model, hp, finalMetrics);
    const totalMs = Date.now() - started;
    metrics.line(
      metricsJsonLine({
        startTime: started / 1000,
        endTime: Date.now() / 1000,
        dimensions,
        metrics: { epochs: hp.epochs, '_shrink.time': shrinkMs, totaltime: totalMs },
      }),
    );
    if (sample) {
      // The report is a convenience: a failure to write it must not fail a job whose model is saved.
      await writeReport(
        context.paths.outputData,
        kmeansReport({
          hyperparameters: hp,
          model,
          records: merged.records,
          epochLosses: merged.epochLosses,
          clusterSizes,
          metrics: finalMetrics,
          sample,
          seconds: totalMs / 1000,
          hosts: cluster.hosts.length,
        }),
      ).catch((error: unknown) => log.warn({ err: error }, 'could not write the training report'));
    }
  } finally {
    await assigner.close();
  }
}

/** SageMaker's built-in k-means, as a drop-in replacement. */
export const kmeans: Algorithm<KMeansHyperparameters> = {
  name: 'kmeans',
  hyperparameters: KMeansHyperparametersSchema,
  train,
  async load(modelDir) {
    const model = await readModelDir(modelDir);
    // One intra-op thread: a server's parallelism comes from its worker processes, and onnxruntime's
    // spinning pool threads in every process would compete with them (and with /ping) for the cores.
    // Its session starts after /ping says ready; requests meanwhile are assigned in JS.
    return createPredictor(model, createWarmingOnnxAssigner({ threads: 1 }));
  },
};

export default kmeans;
