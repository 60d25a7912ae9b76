import type { z } from 'zod';
import type { ChannelConfig } from '../src/contract/index.js';
import type { MetricDefinition, MetricsRecord } from '../src/contract/metric-lines.js';
import type { RecordBatch, RecordStream } from '../src/io/records.js';
import type { Logger } from '../src/util/log.js';

/** Options for opening a channel as a record stream. */
export interface OpenChannelOptions {
  /** Rows per batch (the algorithm's mini_batch_size). */
  readonly batchSize: number;
  /** Expected width; rows of any other width fail with a message naming file and line/record. */
  readonly featureDim: number;
  /** Epoch number: selects the Pipe-mode FIFO `CH_<epoch>`; File mode reads the same files again. */
  readonly epoch?: number;
}

/** The channels of a training job, opened as streams of record batches. */
export interface Channels {
  /** Names of the configured channels, sorted. */
  readonly names: readonly string[];
  has(name: string): boolean;
  config(name: string): ChannelConfig;
  open(name: string, options: OpenChannelOptions): RecordStream;
}

/** A summary as it travels between hosts: JSON metadata plus named float64 arrays. */
export interface WireSummary {
  /** Small JSON-serializable facts (counts, flags). */
  readonly meta: unknown;
  readonly arrays: Readonly<Record<string, Float64Array>>;
}

/** Converts an algorithm's summary type to and from its wire form. */
export interface SummaryCodec<S> {
  encode(summary: S): WireSummary;
  /** Rebuilds a summary from the wire; throws InputError naming `host` when it does not fit. */
  decode(wire: WireSummary, host: string): S;
}

/** The hosts of a training job; the leader is `hosts[0]`. */
export interface Cluster {
  readonly current: string;
  readonly hosts: readonly string[];
  readonly leader: string;
  readonly isLeader: boolean;
  /**
   * Runs `compute` on this host and gathers every host's result on the leader, which gets them all
   * in `hosts` order; a worker sends its result (or its failure) and gets `undefined`. `tag` names
   * the exchange (e.g. the algorithm), so two exchanges of one job never mix. One host: no network.
   * @example
   * const all = await context.cluster.gather('pca', () => summarize(), codec);
   * if (all) await writeModel(merge(all));
   */
  gather<S>(tag: string, compute: () => Promise<S>, codec: SummaryCodec<S>): Promise<S[] | undefined>;
}

/**
 * Writes metric lines unbuffered in SageMaker's formats, for this host, so that the algorithm's
 * `metricDefinitions` (and users' MetricDefinitions regexes) read them.
 */
export interface Metrics {
  /** `#quality_metric: host=algo-1, train msd <loss>=0.43` */
  quality(channel: string, metric: string, value: number): void;
  /** `#progress_metric: host=algo-1, completed 50 % of epochs` */
  progress(percent: number): void;
  /** `#throughput_metric: host=algo-1, train throughput=4053.27 records/second` */
  throughput(channel: string, recordsPerSecond: number): void;
  /** A `#metrics {...}` JSON line with SageMaker's {sum, count, min, max} statistics. */
  record(record: MetricsRecord): void;
  /** Any other line, as it is. */
  line(text: string): void;
}

/** Everything an algorithm's training run receives. */
export interface TrainContext<H> {
  readonly hyperparameters: H;
  readonly channels: Channels;
  readonly cluster: Cluster;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Aborted on SIGTERM: stop at the next safe point, save what can be saved. */
  readonly signal: AbortSignal;
  /** Where the model goes; it replaces /opt/ml/model only when `train` resolves. */
  readonly modelDir: string;
  /** /opt/ml/output/data: extra artifacts (reports), packed into output.tar.gz. */
  readonly outputDataDir: string;
  /** Where to read and write checkpoints (checkpointconfig LocalPath or /opt/ml/checkpoints). */
  readonly checkpointDir: string;
}

/** One named output of a prediction, e.g. `closest_cluster` (width 1, scalar) or `projection` (width n). */
export interface PredictionField {
  readonly name: string;
  readonly width: number;
  /** Serialize width-1 values as a number rather than a one-element list. */
  readonly scalar: boolean;
}

/** Predictions for a batch: one Float32Array per field, `rows` x `field.width`. */
export interface Predictions {
  readonly rows: number;
  readonly columns: Readonly<Record<string, Float32Array>>;
}

/** A loaded model that the server calls. */
export interface Predictor {
  readonly featureDim: number;
  /** The JSON response root key: `predictions` (k-means) or `projections` (PCA). */
  readonly jsonRootKey: string;
  readonly fields: readonly PredictionField[];
  /**
   * The batch's arrays are lent for the call: the server reuses them for a later request once the
   * returned promise settles, so keep no reference to them (return new arrays).
   */
  predict(batch: RecordBatch): Promise<Predictions>;
  /** Frees what the predictor holds (native sessions); called when the server unloads the model. */
  close?(): Promise<void>;
}

/** Parses the hyperparameters as strings (after platform keys are removed); rejects unknown keys. */
export type HyperparameterSchema<H> = z.ZodType<H, Record<string, string>>;

/** How the server recognises a model directory that an algorithm wrote. */
export interface ModelRecognition {
  /** Files that mark such a directory (`model_algo-1`); the built-in model kind takes a dir with any. */
  readonly files: readonly string[];
  /** What such a directory holds, for the message when no algorithm recognises one. */
  readonly expects: string;
  /**
   * Whether `modelDir` holds this algorithm's model, asked when smkit's `model.json` does not name the
   * algorithm (models written by SageMaker's own images). Cheap: no model is loaded.
   */
  recognize(modelDir: string): Promise<boolean>;
}

/**
 * A training algorithm smkit runs as a built-in (`smkit_algorithm=NAME`) and serves. Keep the object
 * cheap to import: `train` and `load` should import their code when called.
 * @example
 * const mean: Algorithm<{ feature_dim: number }> = {
 *   name: 'mean', hyperparameters: hyperparameterSchema({ fields: { feature_dim: { parse: integerField({ min: 1 }) } } }),
 *   metricDefinitions: [], model: { files: ['mean.json'], expects: 'mean.json', recognize: async () => true },
 *   train: async (context) => (await import('./train.js')).train(context),
 *   load: async (dir) => (await import('./predictor.js')).load(dir),
 * };
 */
export interface Algorithm<H = unknown> {
  /** What `smkit_algorithm` / `SMKIT_ALGORITHM` and `smkit local train --algorithm` name it. */
  readonly name: string;
  readonly hyperparameters: HyperparameterSchema<H>;
  /** SageMaker's MetricDefinitions over the lines `train` writes (applied by local mode by default). */
  readonly metricDefinitions: readonly MetricDefinition[];
  readonly model: ModelRecognition;
  /** Field order per response media type when it differs from the predictor's (k-means JSON Lines). */
  readonly responseFieldOrder?: Readonly<Record<string, readonly string[]>>;
  train(context: TrainContext<H>): Promise<void>;
  /** Loads a model directory written by `train` (or by SageMaker's own image). */
  load(modelDir: string): Promise<Predictor>;
}
