import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AwsError } from './errors.js';
import type { AwsSession } from './session.js';

/** Where SageMaker writes a training job's container logs: one stream per host, `<job>/algo-N-<epoch>`. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
/** Where SageMaker writes a transform job's container logs: `<job>/<instance id>`. */
export const TRANSFORM_LOG_GROUP = '/aws/sagemaker/TransformJobs';

/** How {@link LogFollower} reads a job's streams. */
export interface LogFollowerOptions {
  readonly session: AwsSession;
  readonly group: string;
  /** The job name: streams are `<job>/...`. */
  readonly jobName: string;
  /** Once this many streams are known, DescribeLogStreams is not called again. */
  readonly expectedStreams: number;
  readonly onLine: (stream: string, message: string) => void;
  /** Milliseconds since an arbitrary origin; tests pass their own clock. */
  readonly now?: () => number;
}

/** The least time between two DescribeLogStreams calls: the API allows only a few per second per account. */
const DESCRIBE_MIN_INTERVAL_MS = 1_000;
const DESCRIBE_MAX_INTERVAL_MS = 16_000;

/** The service's error code of a failed session call. */
function codeOf(error: unknown): string {
  return (error as AwsError).code ?? (error as { name?: string }).name ?? '';
}

function isThrottling(error: unknown): boolean {
  const name = codeOf(error);
  return (
    name === 'ThrottlingException' || name === 'LimitExceededException' || name === 'TooManyRequestsException'
  );
}

function isMissingGroup(error: unknown): boolean {
  return codeOf(error) === 'ResourceNotFoundException';
}

/**
 * Reads the CloudWatch log streams of one job as they grow, as the SageMaker SDK's `logs=True` does:
 * DescribeLogStreams (prefix = job name) at most once a second, backing off while nothing new appears or
 * the API throttles, until every host's stream is known; then GetLogEvents on each stream from its last
 * forward token. Each `poll()` prints what arrived since the previous one.
 */
export class LogFollower {
  private readonly streams = new Map<string, string | undefined>();
  private describeInterval = DESCRIBE_MIN_INTERVAL_MS;
  private nextDescribe = 0;
  private readonly now: () => number;

  constructor(private readonly options: LogFollowerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Names of the streams found so far, sorted. */
  get streamNames(): string[] {
    return [...this.streams.keys()].sort();
  }

  /** Reads new events of every stream; returns how many lines it printed. */
  async poll(): Promise<number> {
    await this.discover();
    let lines = 0;
    for (const name of this.streamNames) lines += await this.drain(name);
    return lines;
  }

  private async discover(): Promise<void> {
    if (this.streams.size >= this.options.expectedStreams || this.now() < this.nextDescribe) return;
    const before = this.streams.size;
    try {
      let nextToken: string | undefined;
      do {
        const page = await this.options.session.call(
          'logs',
          new DescribeLogStreamsCommand({
            logGroupName: this.options.group,
            logStreamNamePrefix: `${this.options.jobName}/`,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const stream of page.logStreams ?? []) {
          if (stream.logStreamName && !this.streams.has(stream.logStreamName)) {
            this.streams.set(stream.logStreamName, undefined);
          }
        }
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      // The group appears with the first log line; throttling only slows us down.
      if (!isThrottling(error) && !isMissingGroup(error)) throw error;
      this.describeInterval = Math.min(this.describeInterval * 2, DESCRIBE_MAX_INTERVAL_MS);
      this.nextDescribe = this.now() + this.describeInterval;
      return;
    }
    this.describeInterval =
      this.streams.size > before
        ? DESCRIBE_MIN_INTERVAL_MS
        : Math.min(this.describeInterval * 2, DESCRIBE_MAX_INTERVAL_MS);
    this.nextDescribe = this.now() + this.describeInterval;
  }

  private async drain(stream: string): Promise<number> {
    let lines = 0;
    for (;;) {
      const token = this.streams.get(stream);
      let page: GetLogEventsCommandOutput;
      try {
        page = await this.options.session.call(
          'logs',
          new GetLogEventsCommand({
            logGroupName: this.options.group,
            logStreamName: stream,
            startFromHead: true,
            ...(token ? { nextToken: token } : {}),
          }),
        );
      } catch (error) {
        if (isThrottling(error)) return lines;
        throw error;
      }
      for (const event of page.events ?? []) {
        this.options.onLine(stream, (event.message ?? '').replace(/\n$/, ''));
        lines++;
      }
      // The same forward token back means the end of the stream for now.
      const next = page.nextForwardToken;
      this.streams.set(stream, next ?? token);
      if (!next || next === token || !page.events?.length) return lines;
    }
  }
}

/** The host of a stream name (`job/algo-1-1712345678` -> `algo-1`), for prefixing lines. */
export function streamHost(stream: string): string {
  const tail = stream.slice(stream.indexOf('/') + 1);
  return /^(algo-\d+)-\d+$/.exec(tail)?.[1] ?? tail;
}
