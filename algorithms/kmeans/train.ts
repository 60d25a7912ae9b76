import { InputError } from '../../src/util/errors.js';
import { requireChannel, trainingDimensions, trainOnShards } from '../sharded-training.js';
import type { Predictor, SummaryCodec, TrainContext } from '../types.js';
import type { KMeansHyperparameters } from './hyperparameters.js';
import type { Assigner } from './math/assign.js';
import { localLloyd, localLloydTrials } from './math/lloyd.js';
import { createOnnxAssigner } from './math/onnx-assigner.js';
import { SquaredDistanceScore } from './math/score.js';
import { wasmAssigner } from './math/wasm-assign.js';
import { type KMeansModel, createPredictor, readModelDir, writeModelFiles } from './model.js';
import { kmeansReport } from './report.js';
import { type ShardSummary, checkBatch, lloydPass, mergeSummaries, streamShard } from './stream.js';

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

/** Trains k-means: streaming centers per host, merged and reduced to k on the leader. */
export async function train(context: TrainContext<KMeansHyperparameters>): Promise<void> {
  const hp = context.hyperparameters;
  const { log, metrics, cluster } = context;
  requireChannel(context, 'train', 'k-means');
  const assigner = await createOnnxAssigner();
  try {
    let sample: Awaited<ReturnType<typeof streamShard>>['sample'] | undefined;
    let totalRecords = 0;
    const dimensions = trainingDimensions(cluster.current, ALGORITHM_DIMENSION);
    const summarize = async () => {
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
        seed: SEED + cluster.hosts.indexOf(cluster.current),
        sampleSize: cluster.isLeader ? REPORT_SAMPLE_ROWS : 0,
        signal: context.signal,
        events: {
          onInitialized: (records, centers) => {
            const now = Date.now() / 1000;
            log.info(`initialized ${centers} streaming centers from the first ${records} records`);
            metrics.record({
              startTime: now,
              endTime: now,
              dimensions: { ...dimensions, Meta: 'init_train_data_iter' },
              metrics: { 'Total Records Seen': records, 'Total Batches Seen': 1 },
            });
          },
          onEpoch: (epoch, records, batches, seconds) => {
            totalRecords += records;
            const now = Date.now() / 1000;
            metrics.progress(((epoch + 1) / hp.epochs) * 100);
            metrics.record({
              startTime: now - seconds,
              endTime: now,
              dimensions: { ...dimensions, Meta: 'training_data_iter', epoch },
              metrics: {
                'Number of Records Since Last Reset': records,
                'Number of Batches Since Last Reset': batches,
                'Total Records Seen': totalRecords,
              },
            });
          },
        },
      });
      sample = result.sample;
      const throughput = result.seconds > 0 ? totalRecords / result.seconds : 0;
      metrics.throughput('train', Math.round(throughput * 100) / 100);
      return result.summary;
    };
    await trainOnShards(context, {
      tag: 'kmeans',
      algorithmDimension: ALGORITHM_DIMENSION,
      codec: summaryCodec,
      summarize,
      merge: mergeSummaries,
      records: (merged) => merged.records,
      finish: async (merged) => {
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
        metrics.quality('train', 'msd', reduced.loss);

        if (context.channels.has('test')) {
          const score = await scoreTest(context, model, assigner);
          for (const metric of hp.eval_metrics) {
            const value = metric === 'msd' ? score.msd : score.ssd;
            finalMetrics[`test:${metric}`] = value;
            metrics.quality('test', metric, value);
          }
        } else {
          log.info('Test data is not provided.');
        }
        return {
          write: (modelDir) => writeModelFiles(modelDir, model, hp, finalMetrics),
          metrics: { epochs: hp.epochs, '_shrink.time': shrinkMs },
          report: (seconds) =>
            sample &&
            kmeansReport({
              hyperparameters: hp,
              model,
              records: merged.records,
              epochLosses: merged.epochLosses,
              clusterSizes,
              metrics: finalMetrics,
              sample,
              seconds,
              hosts: cluster.hosts.length,
            }),
        };
      },
    });
  } finally {
    await assigner.close();
  }
}

/** Loads a k-means model directory for serving. */
export async function loadPredictor(modelDir: string): Promise<Predictor> {
  const model = await readModelDir(modelDir);
  // The wasm kernel gives assignJs's bits on every thread, host CPU and body size, starts in
  // milliseconds and takes no cores of its own; every k-means model of the thread shares it.
  return createPredictor(model, wasmAssigner);
}
