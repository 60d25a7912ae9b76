import { mkdir } from 'node:fs/promises';
import { type Report, writeReport } from '../src/report/index.js';
import { InputError } from '../src/util/errors.js';
import type { SummaryCodec, TrainContext } from './types.js';

/**
 * What every host-sharded algorithm does around its math: each host summarizes its shard, the leader
 * merges the summaries and writes the model, then the job's closing `#metrics` line and the report.
 */

/** Fails unless the job has `channel`, naming the channels it has. */
export function requireChannel(context: TrainContext<unknown>, channel: string, algorithm: string): void {
  if (!context.channels.has(channel)) {
    throw new InputError(
      `${algorithm} needs a '${channel}' channel (channels given: ${context.channels.names.join(', ') || 'none'})`,
    );
  }
}

/** The `Dimensions` of a training `#metrics` line, in SageMaker's key order. */
export function trainingDimensions(host: string, algorithm: string): Record<string, string> {
  return { Host: host, Operation: 'training', Algorithm: algorithm };
}

/** The leader's finished model: how to write it and what to report about it. */
export interface FinishedModel {
  /** Writes the model files into `modelDir` (which exists). */
  write(modelDir: string): Promise<void>;
  /** The closing `#metrics` line's metrics; `totaltime` (ms) is added after them. */
  readonly metrics: Readonly<Record<string, number>>;
  /** The training report for `seconds` of training, or `undefined` for none. */
  report?(seconds: number): Report | undefined;
}

/** One sharded training: how to summarize a shard, merge the summaries and finish the model. */
export interface ShardedTraining<S, M> {
  /** Names the exchange between hosts (the algorithm's name). */
  readonly tag: string;
  /** The `Algorithm` dimension of the `#metrics` lines (`AWS/KMeansWebscale`). */
  readonly algorithmDimension: string;
  readonly codec: SummaryCodec<S>;
  /** Streams this host's shard into a summary. */
  summarize(): Promise<S>;
  /** On the leader: one summary from the summaries of every host, in host order. */
  merge(summaries: S[]): M;
  /** How many records the merged summary holds (0 fails the job). */
  records(merged: M): number;
  /** On the leader: the model from the merged summary. */
  finish(merged: M): Promise<FinishedModel>;
}

/**
 * Runs a sharded training: gathers the hosts' summaries on the leader, which merges them, writes the
 * model into `context.modelDir`, prints the closing `#metrics` line and writes the report (a report
 * that cannot be written is logged, not failed: the model is saved). Workers return once their
 * summary is sent.
 */
export async function trainOnShards<S, M>(
  context: TrainContext<unknown>,
  training: ShardedTraining<S, M>,
): Promise<void> {
  const { cluster, log, metrics } = context;
  const started = Date.now();
  const summaries = await cluster.gather(training.tag, () => training.summarize(), training.codec);
  if (!summaries) {
    log.info('summary sent to the leader, which writes the model');
    return;
  }
  const merged = training.merge(summaries);
  if (training.records(merged) === 0) {
    throw new InputError('train channel has no records: check the channel S3 prefix and ContentType');
  }
  const model = await training.finish(merged);
  await mkdir(context.modelDir, { recursive: true });
  await model.write(context.modelDir);
  const totalMs = Date.now() - started;
  metrics.record({
    startTime: started / 1000,
    endTime: Date.now() / 1000,
    dimensions: trainingDimensions(cluster.current, training.algorithmDimension),
    metrics: { ...model.metrics, totaltime: totalMs },
  });
  const report = model.report?.(totalMs / 1000);
  if (report) {
    await writeReport(context.outputDataDir, report).catch((error: unknown) =>
      log.warn({ err: error }, 'could not write the training report'),
    );
  }
}
