import type { RecordBatch, RecordStream } from '../../src/io/records.js';
import { InputError } from '../../src/util/errors.js';
import type { KMeansHyperparameters } from './hyperparameters.js';
import type { Assigner } from './math/assign.js';
import { createRandom } from './math/random.js';
import { RowReservoir } from './math/sample.js';
import { WebScaleKMeans } from './math/web-scale.js';

/** What one host learned from its shard: weighted streaming centers, mergeable with other hosts'. */
export interface ShardSummary {
  readonly dim: number;
  /** Streaming centers, `weights.length` x dim. */
  readonly centers: Float64Array;
  /** Decayed number of records behind each center. */
  readonly weights: Float64Array;
  /** Records read per epoch (the shard's size). */
  readonly records: number;
  /** Per epoch: the mean squared distance of each record to its center when it was streamed in. */
  readonly epochLosses: readonly number[];
}

/** Progress callbacks, for metric lines and logs. */
export interface StreamEvents {
  /** After the initial centers are picked from the first rows. */
  onInitialized?(records: number, centers: number): void;
  /** After each epoch (0-based) with the records of that epoch and the seconds it took. */
  onEpoch?(epoch: number, records: number, batches: number, seconds: number): void;
}

/** Options of `streamShard`. */
export interface StreamOptions {
  readonly hyperparameters: KMeansHyperparameters;
  /** Opens the channel for one epoch (Pipe mode: a fresh FIFO per epoch). */
  readonly open: (epoch: number) => RecordStream;
  /** Names the channel in error messages. */
  readonly channel: string;
  readonly assigner: Assigner;
  readonly seed: number;
  /** Rows kept (uniformly) for the report's 2-D picture; 0 for none. */
  readonly sampleSize?: number;
  readonly signal?: AbortSignal;
  readonly events?: StreamEvents;
}

/** The shard summary plus this host's sample, which never travels. */
export interface StreamResult {
  readonly summary: ShardSummary;
  readonly sample: RowReservoir;
  /** Seconds spent streaming (for the throughput line). */
  readonly seconds: number;
}

/**
 * Rejects a batch that does not fit: wrong width, NaN or infinite values. `offset` is the 0-based
 * index of the batch's first record in the channel, so the message points at the record.
 */
export function checkBatch(batch: RecordBatch, channel: string, featureDim: number, offset: number): void {
  if (batch.dim !== featureDim) {
    throw new InputError(
      `${channel} channel: records have ${batch.dim} features but feature_dim is ${featureDim}; ` +
        'set feature_dim to the width of the data',
    );
  }
  const values = batch.values;
  const n = batch.rows * batch.dim;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // v - v is NaN exactly for NaN and +-Infinity; one subtraction is cheaper than Number.isFinite.
    if (v - v !== 0) {
      const row = Math.floor(i / batch.dim);
      throw new InputError(
        `${channel} channel: record ${offset + row + 1} has ${v} in feature ${(i % batch.dim) + 1}; ` +
          'k-means needs finite numbers: remove or impute missing values',
      );
    }
  }
}

/**
 * Streams a shard through the web-scale mini-batch phase for all epochs. The first rows (at least K
 * of them when the shard has that many) pick the initial centers, then every batch updates them.
 * Memory is O(K x dim + one batch), independent of the number of records.
 */
export async function streamShard(options: StreamOptions): Promise<StreamResult> {
  const hp = options.hyperparameters;
  const dim = hp.feature_dim;
  const wanted = hp.k * hp.extra_center_factor;
  const sample = new RowReservoir(options.sampleSize ?? 0, dim, createRandom(options.seed + 1));
  let state: WebScaleKMeans | undefined;
  let records = 0;
  const epochLosses: number[] = [];
  const started = performance.now();
  for (let epoch = 0; epoch < hp.epochs; epoch++) {
    const epochStarted = performance.now();
    let seen = 0;
    let batches = 0;
    let lossSum = 0;
    let pending: RecordBatch[] = [];
    let pendingRows = 0;
    const consume = async (batch: RecordBatch) => {
      const stats = await state!.update(batch.values, batch.rows, options.assigner);
      lossSum += stats.sumSquaredDistances;
      batches++;
    };
    const initialize = async () => {
      const values = new Float32Array(pendingRows * dim);
      let at = 0;
      for (const batch of pending) {
        values.set(batch.values.subarray(0, batch.rows * dim), at);
        at += batch.rows * dim;
      }
      state = WebScaleKMeans.initialize(values, pendingRows, dim, {
        centers: wanted,
        initMethod: hp.init_method,
        halfLifeTimeSize: hp.half_life_time_size,
        seed: options.seed,
      });
      options.events?.onInitialized?.(pendingRows, state.count);
      for (const batch of pending) await consume(batch);
      pending = [];
    };
    for await (const batch of options.open(epoch)) {
      options.signal?.throwIfAborted();
      if (batch.rows === 0) continue;
      checkBatch(batch, options.channel, dim, seen);
      seen += batch.rows;
      if (epoch === 0) sample.add(batch.values, batch.rows);
      if (state) {
        await consume(batch);
        continue;
      }
      // Copy: a reader may reuse its batch buffers once the next batch is requested.
      pending.push({ rows: batch.rows, dim, values: batch.values.slice(0, batch.rows * dim) });
      pendingRows += batch.rows;
      if (pendingRows >= wanted) await initialize();
    }
    if (!state && pendingRows > 0) await initialize();
    if (epoch === 0) records = seen;
    else if (seen !== records) {
      throw new InputError(
        `${options.channel} channel: epoch ${epoch + 1} had ${seen} records but epoch 1 had ${records}; ` +
          'the data changed between epochs',
      );
    }
    epochLosses.push(seen ? lossSum / seen : Number.NaN);
    options.events?.onEpoch?.(epoch, seen, batches, (performance.now() - epochStarted) / 1000);
    if (records === 0) break;
  }
  return {
    summary: {
      dim,
      centers: state ? state.centers : new Float64Array(0),
      weights: state ? state.counts : new Float64Array(0),
      records,
      epochLosses,
    },
    sample,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Concatenates the weighted centers of several hosts (the leader's input to the reduction). */
export function mergeSummaries(summaries: readonly ShardSummary[]): ShardSummary {
  const dim = summaries[0]!.dim;
  const total = summaries.reduce((n, s) => n + s.weights.length, 0);
  const centers = new Float64Array(total * dim);
  const weights = new Float64Array(total);
  let at = 0;
  for (const s of summaries) {
    centers.set(s.centers, at * dim);
    weights.set(s.weights, at);
    at += s.weights.length;
  }
  const records = summaries.reduce((n, s) => n + s.records, 0);
  const epochs = Math.max(...summaries.map((s) => s.epochLosses.length));
  const epochLosses = Array.from({ length: epochs }, (_, e) => {
    let sum = 0;
    let n = 0;
    for (const s of summaries) {
      const loss = s.epochLosses[e];
      if (loss === undefined || Number.isNaN(loss)) continue;
      sum += loss * s.records;
      n += s.records;
    }
    return n ? sum / n : Number.NaN;
  });
  return { dim, centers, weights, records, epochLosses };
}
