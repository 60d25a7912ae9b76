import { stat } from 'node:fs/promises';
import type { CreateTransformJobCommandInput } from '@aws-sdk/client-sagemaker';
import { listFiles } from '../local/job-tree.js';
import { compileFilter } from '../local/jsonpath.js';
import { InputError } from '../util/errors.js';
import { parseS3Uri } from './arns.js';
import { type PlannedUpload, s3Join } from './job-uploads.js';

/** SageMaker's limits on a transform job's request (CreateTransformJob). */
export const TRANSFORM_LIMITS = Object.freeze({
  maxPayloadMb: 100,
  /** MaxConcurrentTransforms x MaxPayloadInMB. */
  concurrencyTimesPayloadMb: 100,
});

/** What `smkit transform-job` asks for: the flags of `smkit local transform`, plus where on AWS it runs. */
export interface TransformJobOptions {
  readonly jobName: string;
  /** The SageMaker model to run (created beforehand, or by `--image --model-data`). */
  readonly modelName: string;
  /** An `s3://` prefix or a local directory, uploaded first. */
  readonly input: string;
  readonly output: string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly splitType?: 'None' | 'Line' | 'RecordIO';
  readonly compression?: 'None' | 'Gzip';
  readonly strategy?: 'MultiRecord' | 'SingleRecord';
  readonly maxPayloadMb?: number;
  readonly concurrency?: number;
  readonly assembleWith?: 'Line' | 'None';
  readonly inputFilter?: string;
  readonly outputFilter?: string;
  readonly joinSource?: 'Input' | 'None';
  readonly environment?: Readonly<Record<string, string>>;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** ModelClientConfig.InvocationsTimeoutInSeconds (1-3600). */
  readonly invocationTimeoutSeconds?: number;
  /** Where a local `input` goes: `s3://bucket/prefix`. */
  readonly stagingPrefix: string;
}

/** A transform job decided before any AWS call. */
export interface TransformJobPlan {
  readonly upload?: PlannedUpload;
  readonly request: CreateTransformJobCommandInput;
}

/**
 * Refuses what CreateTransformJob would refuse, before any call: MaxPayloadInMB above 100, and
 * MaxConcurrentTransforms x MaxPayloadInMB above 100.
 */
export function checkTransformLimits(
  options: Pick<TransformJobOptions, 'maxPayloadMb' | 'concurrency'>,
): void {
  const { maxPayloadMb, concurrency } = options;
  if (maxPayloadMb !== undefined && !(maxPayloadMb >= 0 && maxPayloadMb <= TRANSFORM_LIMITS.maxPayloadMb)) {
    throw new InputError(
      `--max-payload must be between 0 and ${TRANSFORM_LIMITS.maxPayloadMb} MB (got ${maxPayloadMb})`,
    );
  }
  if (maxPayloadMb !== undefined && !Number.isInteger(maxPayloadMb)) {
    throw new InputError(
      `--max-payload must be a whole number of MB, as MaxPayloadInMB is (got ${maxPayloadMb})`,
    );
  }
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new InputError(`--concurrency must be an integer >= 1 (got ${concurrency})`);
  }
  // Unset values are the platform's defaults: 6 MB, and the container's choice (at least 1).
  const payload = maxPayloadMb ?? 6;
  const transforms = concurrency ?? 1;
  if (transforms * payload > TRANSFORM_LIMITS.concurrencyTimesPayloadMb) {
    throw new InputError(
      `MaxConcurrentTransforms x MaxPayloadInMB must be <= ${TRANSFORM_LIMITS.concurrencyTimesPayloadMb} (got ${transforms} x ${payload}); lower --concurrency or --max-payload`,
    );
  }
}

async function localInput(input: string, staging: string): Promise<PlannedUpload> {
  const info = await stat(input).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(`--input ${input} is neither an s3:// URI nor a directory of input files`);
  }
  const files = await listFiles(input);
  if (files.length === 0) throw new InputError(`--input ${input} holds no files to upload`);
  return { what: 'transform input', local: input, files, uri: `${s3Join(staging, 'input')}/` };
}

/** Plans a transform job without calling AWS: checks the limits and the input, builds CreateTransformJob. */
export async function planTransformJob(options: TransformJobOptions): Promise<TransformJobPlan> {
  checkTransformLimits(options);
  parseS3Uri(options.output, '--output');
  if (options.invocationTimeoutSeconds !== undefined) {
    const seconds = options.invocationTimeoutSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
      throw new InputError(`--invocation-timeout must be an integer from 1 to 3600 seconds (got ${seconds})`);
    }
  }
  for (const [flag, filter] of [
    ['--input-filter', options.inputFilter],
    ['--output-filter', options.outputFilter],
  ] as const) {
    if (filter === undefined) continue;
    if (filter.length > 63)
      throw new InputError(`${flag} is ${filter.length} characters; SageMaker allows 63`);
    compileFilter(filter);
  }
  let upload: PlannedUpload | undefined;
  let inputUri = options.input;
  if (options.input.startsWith('s3://')) parseS3Uri(options.input, '--input');
  else {
    upload = await localInput(options.input, options.stagingPrefix);
    inputUri = upload.uri;
  }
  const dataProcessing = {
    ...(options.inputFilter ? { InputFilter: options.inputFilter } : {}),
    ...(options.outputFilter ? { OutputFilter: options.outputFilter } : {}),
    ...(options.joinSource ? { JoinSource: options.joinSource } : {}),
  };
  const request: CreateTransformJobCommandInput = {
    TransformJobName: options.jobName,
    ModelName: options.modelName,
    ...(options.strategy ? { BatchStrategy: options.strategy } : {}),
    ...(options.maxPayloadMb !== undefined ? { MaxPayloadInMB: options.maxPayloadMb } : {}),
    ...(options.concurrency !== undefined ? { MaxConcurrentTransforms: options.concurrency } : {}),
    ...(options.invocationTimeoutSeconds !== undefined
      ? { ModelClientConfig: { InvocationsTimeoutInSeconds: options.invocationTimeoutSeconds } }
      : {}),
    ...(options.environment && Object.keys(options.environment).length
      ? { Environment: { ...options.environment } }
      : {}),
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: inputUri } },
      ...(options.contentType ? { ContentType: options.contentType } : {}),
      ...(options.splitType ? { SplitType: options.splitType } : {}),
      ...(options.compression && options.compression !== 'None'
        ? { CompressionType: options.compression }
        : {}),
    },
    TransformOutput: {
      S3OutputPath: options.output,
      ...(options.accept ? { Accept: options.accept } : {}),
      ...(options.assembleWith ? { AssembleWith: options.assembleWith } : {}),
    },
    TransformResources: {
      InstanceType: options.instanceType as NonNullable<
        CreateTransformJobCommandInput['TransformResources']
      >['InstanceType'],
      InstanceCount: options.instanceCount,
    },
    ...(Object.keys(dataProcessing).length ? { DataProcessing: dataProcessing } : {}),
  };
  return { ...(upload ? { upload } : {}), request };
}
