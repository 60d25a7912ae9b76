import { InputError } from '../../src/util/errors.js';
import { requireChannel, trainingDimensions, trainOnShards } from '../sharded-training.js';
import type { Predictor, SummaryCodec, TrainContext } from '../types.js';
import type { PcaHyperparameters } from './hyperparameters.js';
import { PcaAccumulator, type PcaSummary, mergeSummaries } from './math/accumulator.js';
import { createPcaKernel } from './math/pca-kernel.js';
import { explainedVariance, solvePca } from './math/solve.js';
import { createPredictor, readModelDir, writeModelFiles } from './model.js';
import { pcaReport } from './report.js';

/** The `Algorithm` dimension of SageMaker's PCA `#metrics` lines. */
const ALGORITHM_DIMENSION = 'PCA';
/** Fixed so a job is reproducible; each host adds its index so shards get independent signs. */
const SEED = 0x9ca;

/** Sends a shard's one-pass summary over the wire (exchange.ts) and checks it on arrival. */
export const summaryCodec: SummaryCodec<PcaSummary> = {
  encode: (s) => ({
    meta: { mode: s.mode, dim: s.dim, n: s.n, subtractMean: s.subtractMean, sketchRows: s.sketchRows },
    arrays: { shift: s.shift, sums: s.sums, matrix: s.matrix, h: s.h },
  }),
  decode: (wire, host) => {
    const meta = wire.meta as Partial<Record<'mode' | 'dim' | 'n' | 'subtractMean' | 'sketchRows', unknown>>;
    const { shift, sums, matrix, h } = wire.arrays;
    const mode = meta?.mode;
    const dim = meta?.dim;
    const l = meta?.sketchRows;
    if (
      (mode !== 'regular' && mode !== 'randomized') ||
      typeof dim !== 'number' ||
      typeof l !== 'number' ||
      typeof meta.n !== 'number' ||
      typeof meta.subtractMean !== 'boolean' ||
      shift?.length !== dim ||
      sums?.length !== dim ||
      h?.length !== l ||
      matrix?.length !== (mode === 'regular' ? dim * dim : l * dim)
    ) {
      throw new InputError(`the PCA summary of ${host} is malformed`);
    }
    return { mode, dim, n: meta.n, subtractMean: meta.subtractMean, sketchRows: l, shift, sums, matrix, h };
  },
};

/** Names the channel in a data error (records are counted across the channel's files). */
function inChannel(error: unknown): never {
  if (error instanceof InputError) throw new InputError(`train channel: ${error.message}`);
  throw error;
}

/** Streams this host's shard of `train` once into a summary, writing SageMaker's progress lines. */
async function summarizeShard(context: TrainContext<PcaHyperparameters>): Promise<PcaSummary> {
  const hp = context.hyperparameters;
  const { cluster, metrics } = context;
  const host = cluster.current;
  const started = Date.now();
  // One thread for the randomized sketch's GEMM (the Gram matrix of regular mode always runs on this
  // one): the other cores parse the channel (large CSV channels are parsed on worker threads), and
  // the products are a small part of the parsing's CPU time.
  const kernel = await createPcaKernel(hp.feature_dim, 1);
  try {
    const accumulator = new PcaAccumulator({
      mode: hp.algorithm_mode,
      dim: hp.feature_dim,
      subtractMean: hp.subtract_mean,
      sketchRows: hp.num_components + hp.extra_components,
      seed: SEED + cluster.hosts.indexOf(host),
      kernel,
    });
    let batches = 0;
    const stream = context.channels.open('train', {
      batchSize: hp.mini_batch_size,
      featureDim: hp.feature_dim,
    });
    for await (const batch of stream) {
      context.signal.throwIfAborted();
      if (batch.rows === 0) continue;
      if (batch.dim !== hp.feature_dim) {
        throw new InputError(
          `train: records have ${batch.dim} features but feature_dim is ${hp.feature_dim}: fix feature_dim or the data`,
        );
      }
      await accumulator.add(batch.values, batch.rows).catch(inChannel);
      batches++;
    }
    const summary = await accumulator.finish().catch(inChannel);
    const ended = Date.now();
    const seconds = Math.max(1e-6, (ended - started) / 1000);
    metrics.progress(100);
    metrics.record({
      startTime: started / 1000,
      endTime: ended / 1000,
      dimensions: { ...trainingDimensions(host, ALGORITHM_DIMENSION), Meta: 'training_data_iter', epoch: 0 },
      metrics: {
        'Total Records Seen': summary.n,
        'Total Batches Seen': batches,
        'Number of Records Since Last Reset': summary.n,
        'Number of Batches Since Last Reset': batches,
        'Max Records Seen Between Resets': summary.n,
        'Max Batches Seen Between Resets': batches,
        'Reset Count': 1,
      },
    });
    metrics.throughput('train', Math.round((summary.n / seconds) * 100) / 100);
    return summary;
  } finally {
    await kernel.close();
  }
}

/** Trains PCA: a one-pass summary per host (covariance or sketch), solved on the leader. */
export async function train(context: TrainContext<PcaHyperparameters>): Promise<void> {
  const hp = context.hyperparameters;
  requireChannel(context, 'train', 'PCA');
  if (hp.num_components > hp.feature_dim) {
    throw new InputError(`num_components (${hp.num_components}) must be <= feature_dim (${hp.feature_dim})`);
  }
  await trainOnShards(context, {
    tag: 'pca',
    algorithmDimension: ALGORITHM_DIMENSION,
    codec: summaryCodec,
    summarize: () => summarizeShard(context),
    merge: mergeSummaries,
    records: (merged) => merged.n,
    finish: async (merged) => {
      const solveStarted = Date.now();
      const model = solvePca(merged, hp.num_components);
      const solveMs = Date.now() - solveStarted;
      const variance = [...explainedVariance(model)];
      const description = {
        records: model.n,
        total_variance: model.totalVariance,
        explained_variance: variance,
        explained_variance_ratio: variance.map((v) =>
          model.totalVariance > 0 ? v / model.totalVariance : 0,
        ),
      };
      return {
        write: (modelDir) => writeModelFiles(modelDir, model, hp, description),
        metrics: { epochs: 1, 'finalize.time': solveMs },
        report: (seconds) =>
          pcaReport({ hyperparameters: hp, model, seconds, hosts: context.cluster.hosts.length }),
      };
    },
  });
}

/** Loads a PCA model directory for serving. */
export async function loadPredictor(modelDir: string): Promise<Predictor> {
  return createPredictor(await readModelDir(modelDir));
}
