import {
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  DescribeTransformJobCommand,
  type DescribeTransformJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import type { AwsSession } from './session.js';
import { LogFollower, streamHost, TRAINING_LOG_GROUP, TRANSFORM_LOG_GROUP } from './logs.js';

/** How to wait for a job. */
export interface WaitOptions {
  readonly session: AwsSession;
  /** Stream the job's CloudWatch log lines to `onLine`. */
  readonly logs: boolean;
  /** Hosts (training) or instances (transform): how many log streams to look for. */
  readonly streams: number;
  readonly onLine?: (host: string, line: string) => void;
  /** A new (secondary) status, e.g. `InProgress / Downloading`. */
  readonly onStatus?: (status: string) => void;
  /** Milliseconds between DescribeTrainingJob calls (default 5 s; tests use less). */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function waitFor<T extends { Status: string | undefined; Secondary?: string }>(
  options: WaitOptions,
  group: string,
  jobName: string,
  describe: () => Promise<T>,
): Promise<T> {
  const follower = options.logs
    ? new LogFollower({
        session: options.session,
        group,
        jobName,
        expectedStreams: options.streams,
        onLine: (stream, line) => options.onLine?.(streamHost(stream), line),
      })
    : undefined;
  let shown = '';
  for (;;) {
    const job = await describe();
    const status = job.Secondary ? `${job.Status} / ${job.Secondary}` : (job.Status ?? 'Unknown');
    if (status !== shown) {
      shown = status;
      options.onStatus?.(status);
    }
    await follower?.poll();
    if (TERMINAL.has(job.Status ?? '')) {
      // Lines written just before the end arrive late: one more pass after the last status.
      await follower?.poll();
      return job;
    }
    if (options.signal?.aborted) return job;
    await sleep(options.pollMs ?? 5_000, options.signal);
  }
}

/** Polls DescribeTrainingJob until Completed, Failed or Stopped, streaming the hosts' log lines meanwhile. */
export async function waitForTrainingJob(
  jobName: string,
  options: WaitOptions,
): Promise<DescribeTrainingJobCommandOutput> {
  const result = await waitFor(options, TRAINING_LOG_GROUP, jobName, async () => {
    const job = await options.session.call(
      'sagemaker',
      new DescribeTrainingJobCommand({ TrainingJobName: jobName }),
    );
    return { ...job, Status: job.TrainingJobStatus, Secondary: job.SecondaryStatus };
  });
  return result;
}

/** Polls DescribeTransformJob until Completed, Failed or Stopped, streaming the instances' log lines. */
export async function waitForTransformJob(
  jobName: string,
  options: WaitOptions,
): Promise<DescribeTransformJobCommandOutput> {
  return waitFor(options, TRANSFORM_LOG_GROUP, jobName, async () => {
    const job = await options.session.call(
      'sagemaker',
      new DescribeTransformJobCommand({ TransformJobName: jobName }),
    );
    return { ...job, Status: job.TransformJobStatus };
  });
}
