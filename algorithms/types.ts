import type { z } from 'zod';
import type {
  ChannelConfig,
  ResourceConfig,
  SageMakerPaths,
  TrainingSettings,
} from '../src/contract/index.js';
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

/** The hosts of a training job; the leader is `hosts[0]`. */
export interface Cluster {
  readonly current: string;
  readonly hosts: readonly string[];
  readonly leader: string;
  readonly isLeader: boolean;
  readonly resourceConfig: Readonly<ResourceConfig>;
  /**
   * Where to reach `host`: its IP from `SMKIT_HOST_ADDRESSES` when local mode set one (the names do not
   * resolve there), else the name itself, resolved by DNS as on SageMaker.
   */
  address(host: string): string;
}

/** Writes metric lines unbuffered in SageMaker's formats (`#quality_metric: host=algo-1, train msd <loss>=0.43`). */
export interface MetricsWriter {
  line(text: string): void;
}

/** Everything an algorithm's training run receives. */
export interface TrainContext<H> {
  readonly hyperparameters: H;
  readonly paths: SageMakerPaths;
  readonly settings: TrainingSettings;
  readonly channels: Channels;
  readonly cluster: Cluster;
  readonly metrics: MetricsWriter;
  readonly log: Logger;
  /** Aborted on SIGTERM: stop at the next safe point, save what can be saved. */
  readonly signal: AbortSignal;
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
  predict(batch: RecordBatch): Promise<Predictions>;
}

/** A built-in algorithm: a hyperparameter schema, training and model loading. */
export interface Algorithm<H = unknown> {
  readonly name: string;
  /** Parses the hyperparameters as strings (after platform keys are removed); rejects unknown keys. */
  readonly hyperparameters: z.ZodType<H, Record<string, string>>;
  train(context: TrainContext<H>): Promise<void>;
  /** Loads a model directory written by `train` (or by SageMaker's own image). */
  load(modelDir: string): Promise<Predictor>;
}
