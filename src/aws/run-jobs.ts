import { CreateTrainingJobCommand, CreateTransformJobCommand } from '@aws-sdk/client-sagemaker';
import { SmkitError } from '../util/errors.js';
import { uploadPlanned, uploadSourceArchive } from './job-uploads.js';
import { waitForTrainingJob, waitForTransformJob } from './job-wait.js';
import { type DownloadedModel, downloadModel } from './model-download.js';
import type { AwsSession } from './session.js';
import type { TrainingJobPlan } from './training-job.js';
import type { TransformJobPlan } from './transform-job.js';

/** How to run a planned job. */
export interface RunJobOptions {
  /** Wait for the job to end, streaming its CloudWatch log lines (ignored in a dry run). */
  readonly wait: boolean;
  readonly onLine?: (host: string, line: string) => void;
  readonly onStatus?: (status: string) => void;
  /** One line per step (uploads, creation). */
  readonly onStep?: (message: string) => void;
  /** Milliseconds between Describe* calls while waiting. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/** How a job ended, or that it was started (`InProgress`) when not waited for. */
export interface JobOutcome {
  readonly jobName: string;
  readonly arn: string | undefined;
  readonly status: string;
  readonly secondaryStatus?: string;
  readonly failureReason?: string;
}

/** How a training job ended. */
export interface TrainingJobOutcome extends JobOutcome {
  /** FinalMetricDataList. */
  readonly metrics: readonly { readonly name: string; readonly value: number }[];
  readonly modelArtifacts?: string;
  readonly model?: DownloadedModel;
  readonly billableSeconds?: number;
}

/** How a transform job ended. */
export interface TransformJobOutcome extends JobOutcome {
  readonly output: string | undefined;
}

const TERMINAL = ['Completed', 'Failed', 'Stopped'];

function waitOptions(session: AwsSession, streams: number, options: RunJobOptions) {
  return {
    session,
    logs: Boolean(options.onLine),
    streams,
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

function stillRunning(kind: 'training' | 'transform', jobName: string): string {
  return `stopped waiting; the ${kind} job ${jobName} goes on (stop it with: aws sagemaker stop-${kind}-job --${kind}-job-name ${jobName})`;
}

/**
 * Uploads local channels and sourcedir.tar.gz, calls CreateTrainingJob and, with `wait`, follows the job
 * to its end (log lines, status changes), then downloads and safely extracts model.tar.gz into `download`.
 * Everything created is noted on the session, so a failure can say what exists.
 */
export async function runTrainingJob(
  session: AwsSession,
  plan: TrainingJobPlan,
  options: RunJobOptions & { readonly download?: string },
): Promise<TrainingJobOutcome> {
  const jobName = plan.request.TrainingJobName!;
  for (const upload of plan.uploads) {
    options.onStep?.(
      `uploading ${upload.what}: ${upload.files.length} file(s) from ${upload.local} to ${upload.uri}`,
    );
    await uploadPlanned(session, upload);
  }
  if (plan.source) {
    options.onStep?.(
      `uploading sourcedir.tar.gz (${plan.source.members.length} file(s)) to ${plan.source.uri}`,
    );
    await uploadSourceArchive(session, plan.source);
  }
  const created = await session.call('sagemaker', new CreateTrainingJobCommand(plan.request), {
    TrainingJobArn: `arn:aws:sagemaker:REGION:ACCOUNT_ID:training-job/${jobName}`,
    $metadata: {},
  });
  session.noteCreated({
    kind: 'training job',
    name: jobName,
    remove: `aws sagemaker stop-training-job --training-job-name ${jobName}`,
  });
  options.onStep?.(`created training job ${jobName}`);
  const started = { jobName, arn: created.TrainingJobArn };
  if (!options.wait || session.dryRun) return { ...started, status: 'InProgress', metrics: [] };
  const job = await waitForTrainingJob(
    jobName,
    waitOptions(session, plan.request.ResourceConfig?.InstanceCount ?? 1, options),
  );
  const status = job.TrainingJobStatus ?? 'Unknown';
  if (!TERMINAL.includes(status)) options.onStep?.(stillRunning('training', jobName));
  const outcome: TrainingJobOutcome = {
    ...started,
    status,
    ...(job.SecondaryStatus ? { secondaryStatus: job.SecondaryStatus } : {}),
    ...(job.FailureReason ? { failureReason: job.FailureReason } : {}),
    metrics: (job.FinalMetricDataList ?? []).map((m) => ({
      name: m.MetricName ?? '',
      value: m.Value ?? Number.NaN,
    })),
    ...(job.ModelArtifacts?.S3ModelArtifacts ? { modelArtifacts: job.ModelArtifacts.S3ModelArtifacts } : {}),
    ...(job.BillableTimeInSeconds !== undefined ? { billableSeconds: job.BillableTimeInSeconds } : {}),
  };
  if (status !== 'Completed' || !options.download) return outcome;
  if (!outcome.modelArtifacts) {
    throw new SmkitError(`training job ${jobName} completed but reports no model artifacts to download`);
  }
  try {
    return { ...outcome, model: await downloadModel(session, outcome.modelArtifacts, options.download) };
  } catch (error) {
    throw new SmkitError(
      `training job ${jobName} completed, but downloading ${outcome.modelArtifacts} failed: ${(error as Error).message}`,
    );
  }
}

/** Uploads a local input directory, calls CreateTransformJob and, with `wait`, follows it to its end. */
export async function runTransformJob(
  session: AwsSession,
  plan: TransformJobPlan,
  options: RunJobOptions,
): Promise<TransformJobOutcome> {
  const jobName = plan.request.TransformJobName!;
  if (plan.upload) {
    options.onStep?.(
      `uploading ${plan.upload.files.length} input file(s) from ${plan.upload.local} to ${plan.upload.uri}`,
    );
    await uploadPlanned(session, plan.upload);
  }
  const created = await session.call('sagemaker', new CreateTransformJobCommand(plan.request), {
    TransformJobArn: `arn:aws:sagemaker:REGION:ACCOUNT_ID:transform-job/${jobName}`,
    $metadata: {},
  });
  session.noteCreated({
    kind: 'transform job',
    name: jobName,
    remove: `aws sagemaker stop-transform-job --transform-job-name ${jobName}`,
  });
  options.onStep?.(`created transform job ${jobName}`);
  const started = {
    jobName,
    arn: created.TransformJobArn,
    output: plan.request.TransformOutput?.S3OutputPath,
  };
  if (!options.wait || session.dryRun) return { ...started, status: 'InProgress' };
  const job = await waitForTransformJob(
    jobName,
    waitOptions(session, plan.request.TransformResources?.InstanceCount ?? 1, options),
  );
  const status = job.TransformJobStatus ?? 'Unknown';
  if (!TERMINAL.includes(status)) options.onStep?.(stillRunning('transform', jobName));
  return { ...started, status, ...(job.FailureReason ? { failureReason: job.FailureReason } : {}) };
}
