import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { SmkitError } from '../util/errors.js';
import { type UploadedObject, uploadPlanned, uploadSourceArchive } from './job-uploads.js';
import { waitForTrainingJob, waitForTransformJob } from './job-wait.js';
import { type DownloadedModel, downloadModel } from './model-download.js';
import type { PlannedUpload, TrainingJobPlan } from './training-job.js';
import type { TransformJobPlan } from './transform-job.js';

/** The clients a job command uses. */
export interface JobClients {
  readonly sagemaker: SageMakerClient;
  readonly s3: S3Client;
  /** CloudWatch Logs, to stream the job's lines while waiting. */
  readonly logs?: CloudWatchLogsClient;
}

/** How to run a planned job. */
export interface RunJobOptions {
  /** Wait for the job to end, streaming its logs. */
  readonly wait: boolean;
  readonly onLine?: (host: string, line: string) => void;
  readonly onStatus?: (status: string) => void;
  /** One line per step (uploads, creation). */
  readonly onStep?: (message: string) => void;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/** How a job ended (or that it was started, without waiting). */
export interface JobOutcome {
  readonly jobName: string;
  readonly arn: string | undefined;
  /** `InProgress` when not waited for. */
  readonly status: string;
  readonly secondaryStatus?: string;
  readonly failureReason?: string;
  readonly uploaded: readonly UploadedObject[];
}

/** How a training job ended. */
export interface TrainingJobOutcome extends JobOutcome {
  readonly metrics: readonly { readonly name: string; readonly value: number }[];
  readonly modelArtifacts?: string;
  readonly model?: DownloadedModel;
  readonly billableSeconds?: number;
}

/** How a transform job ended. */
export interface TransformJobOutcome extends JobOutcome {
  readonly output: string | undefined;
}

/** An AWS error in one line: the service's code and message, and the request id to quote to AWS support. */
export function awsErrorLine(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { requestId?: string } };
  const requestId = e.$metadata?.requestId;
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}${requestId ? ` (request id ${requestId})` : ''}`;
}

function leftBehind(uploaded: readonly UploadedObject[]): string {
  if (uploaded.length === 0) return 'nothing was created';
  const prefixes = [...new Set(uploaded.map((o) => o.uri.replace(/\/[^/]*$/, '/')))];
  return `${uploaded.length} object(s) were uploaded and remain under ${prefixes.join(', ')} (remove with: aws s3 rm --recursive ${prefixes[0]})`;
}

async function uploadAll(
  clients: JobClients,
  uploads: readonly PlannedUpload[],
  source: TrainingJobPlan['source'],
  options: RunJobOptions,
): Promise<UploadedObject[]> {
  const uploaded: UploadedObject[] = [];
  try {
    for (const upload of uploads) {
      options.onStep?.(
        `uploading ${upload.what}: ${upload.files.length} file(s) from ${upload.local} to ${upload.uri}`,
      );
      uploaded.push(...(await uploadPlanned(clients.s3, upload)));
    }
    if (source) {
      options.onStep?.(
        `uploading sourcedir.tar.gz (${source.members.length} file(s) of ${source.dir}) to ${source.uri}`,
      );
      uploaded.push(await uploadSourceArchive(clients.s3, source));
    }
  } catch (error) {
    throw new SmkitError(`upload failed: ${awsErrorLine(error)}; ${leftBehind(uploaded)}`);
  }
  return uploaded;
}

async function create<T>(
  what: string,
  uploaded: readonly UploadedObject[],
  send: () => Promise<T>,
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new SmkitError(`${what} failed: ${awsErrorLine(error)}; ${leftBehind(uploaded)}`);
  }
}

function stillRunning(kind: string, jobName: string): string {
  const verb =
    kind === 'training' ? 'stop-training-job --training-job-name' : 'stop-transform-job --transform-job-name';
  return `stopped waiting; the ${kind} job ${jobName} goes on (stop it with: aws sagemaker ${verb} ${jobName})`;
}

/**
 * Uploads local channels and sourcedir.tar.gz, calls CreateTrainingJob and, with `wait`, follows the job
 * to its end (log lines, status changes), then downloads and safely extracts model.tar.gz into `download`.
 * A failure says what was already created.
 */
export async function runTrainingJob(
  clients: JobClients,
  plan: TrainingJobPlan,
  options: RunJobOptions & { readonly download?: string },
): Promise<TrainingJobOutcome> {
  const jobName = plan.request.TrainingJobName!;
  const uploaded = await uploadAll(clients, plan.uploads, plan.source, options);
  const created = await create('CreateTrainingJob', uploaded, () =>
    clients.sagemaker.send(new CreateTrainingJobCommand(plan.request)),
  );
  options.onStep?.(`created training job ${jobName}`);
  const started = { jobName, arn: created.TrainingJobArn, uploaded };
  if (!options.wait) return { ...started, status: 'InProgress', metrics: [] };
  const job = await waitForTrainingJob(jobName, {
    sagemaker: clients.sagemaker,
    ...(clients.logs ? { logs: clients.logs } : {}),
    streams: plan.request.ResourceConfig?.InstanceCount ?? 1,
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const status = job.TrainingJobStatus ?? 'Unknown';
  if (!['Completed', 'Failed', 'Stopped'].includes(status)) {
    options.onStep?.(stillRunning('training', jobName));
  }
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
  if (!outcome.modelArtifacts)
    throw new SmkitError(`training job ${jobName} reports no model artifacts to download`);
  try {
    return { ...outcome, model: await downloadModel(clients.s3, outcome.modelArtifacts, options.download) };
  } catch (error) {
    const reason = error instanceof SmkitError ? error.message : awsErrorLine(error);
    throw new SmkitError(
      `training job ${jobName} completed, but downloading ${outcome.modelArtifacts} failed: ${reason}`,
    );
  }
}

/** Uploads a local input directory, calls CreateTransformJob and, with `wait`, follows it to its end. */
export async function runTransformJob(
  clients: JobClients,
  plan: TransformJobPlan,
  options: RunJobOptions,
): Promise<TransformJobOutcome> {
  const jobName = plan.request.TransformJobName!;
  const uploaded = await uploadAll(clients, plan.upload ? [plan.upload] : [], undefined, options);
  const created = await create('CreateTransformJob', uploaded, () =>
    clients.sagemaker.send(new CreateTransformJobCommand(plan.request)),
  );
  options.onStep?.(`created transform job ${jobName}`);
  const output = plan.request.TransformOutput?.S3OutputPath;
  const started = { jobName, arn: created.TransformJobArn, uploaded, output };
  if (!options.wait) return { ...started, status: 'InProgress' };
  const job = await waitForTransformJob(jobName, {
    sagemaker: clients.sagemaker,
    ...(clients.logs ? { logs: clients.logs } : {}),
    streams: plan.request.TransformResources?.InstanceCount ?? 1,
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const status = job.TransformJobStatus ?? 'Unknown';
  if (!['Completed', 'Failed', 'Stopped'].includes(status))
    options.onStep?.(stillRunning('transform', jobName));
  return { ...started, status, ...(job.FailureReason ? { failureReason: job.FailureReason } : {}) };
}
