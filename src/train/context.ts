import type { Channels, SummaryCodec, TrainContext } from '../../algorithms/types.js';
import type { Logger } from '../util/log.js';
import type { JobHosts } from './cluster.js';
import { exchangeSummaries } from './exchange.js';
import { createMetrics, type MetricsWriter } from './metrics.js';

/** Options of {@link createTrainContext}: what the runner knows about the job. */
export interface TrainContextOptions<H> {
  readonly hyperparameters: H;
  readonly channels: Channels;
  readonly hosts: JobHosts;
  /** How long the leader waits for the workers' summaries (`SMKIT_HOST_WAIT_SECONDS`). */
  readonly hostWaitSeconds: number;
  readonly metrics: MetricsWriter;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly modelDir: string;
  readonly outputDataDir: string;
  readonly checkpointDir: string;
}

/**
 * The context an algorithm trains in: its cluster gathers summaries over the multi-host exchange
 * (`exchange.ts`), its metrics write SageMaker's lines for this host, and it sees only the model,
 * output and checkpoint directories, not the rest of /opt/ml or the settings.
 */
export function createTrainContext<H>(options: TrainContextOptions<H>): TrainContext<H> {
  const { hosts, log, signal } = options;
  return Object.freeze({
    hyperparameters: options.hyperparameters,
    channels: options.channels,
    cluster: Object.freeze({
      current: hosts.current,
      hosts: hosts.hosts,
      leader: hosts.leader,
      isLeader: hosts.isLeader,
      gather: <S>(tag: string, compute: () => Promise<S>, codec: SummaryCodec<S>) =>
        exchangeSummaries(compute, codec, {
          hosts: hosts.hosts,
          current: hosts.current,
          tag,
          timeoutMs: options.hostWaitSeconds * 1000,
          address: hosts.address,
          signal,
          log,
        }),
    }),
    metrics: createMetrics(hosts.current, options.metrics),
    log,
    signal,
    modelDir: options.modelDir,
    outputDataDir: options.outputDataDir,
    checkpointDir: options.checkpointDir,
  });
}
