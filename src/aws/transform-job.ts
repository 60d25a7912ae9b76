import { stat } from 'node:fs/promises';
import type { CreateTransformJobCommandInput } from '@aws-sdk/client-sagemaker';
import { listFiles } from '../local/job-tree.js';
import { compileFilter } from '../local/jsonpath.js';
import {
  type AssembleWith,
  type BatchStrategy,
  checkExecutionParameters,
  type DataProcessing,
  type SplitType,
  TRANSFORM_LIMITS,
} from '../contract/transform.js';
import { InputError } from '../util/errors.js';
import { parseS3Uri } from './arns.js';
import { type PlannedUpload, s3Join } from './job-uploads.js';

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
  readonly splitType?: SplitType;
  readonly compression?: 'None' | 'Gzip';
  readonly strategy?: BatchStrategy;
  readonly maxPayloadMb?: number;
  readonly concurrency?: number;
  readonly assembleWith?: AssembleWith;
  readonly dataProcessing?: DataProcessing;
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
  if (maxPayloadMb !== undefined && !(maxPayloadMb >= 0 && maxPayloadMb <= TRANSFORM_LIMITS.maxPayloadInMB)) {
    throw new InputError(
      `--max-payload must be between 0 and ${TRANSFORM_LIMITS.maxPayloadInMB} MB (got ${maxPayloadMb})`,
    );
  }
  if (maxPayloadMb !== undefined && !Number.isInteger(maxPayloadMb)) {
    throw new InputError(
      `--max-payload must be a whole number of MB, as MaxPayloadInMB is (got ${maxPayloadMb})`,
    );
  }
  // Unset values are the platform's defaults (6 MB, 1 transform) as far as the rule is concerned.
  checkExecutionParameters({
    BatchStrategy: TRANSFORM_LIMITS.defaultStrategy,
    MaxPayloadInMB: maxPayloadMb ?? TRANSFORM_LIMITS.defaultPayloadInMB,
    MaxConcurrentTransforms: concurrency ?? TRANSFORM_LIMITS.defaultConcurrency,
  });
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
  // The filters must be JSONPath batch transform understands (the same subset local transform applies).
  if (options.dataProcessing?.InputFilter) compileFilter(options.dataProcessing.InputFilter);
  if (options.dataProcessing?.OutputFilter) compileFilter(options.dataProcessing.OutputFilter);
  let upload: PlannedUpload | undefined;
  let inputUri = options.input;
  if (options.input.startsWith('s3://')) parseS3Uri(options.input, '--input');
  else {
    upload = await localInput(options.input, options.stagingPrefix);
    inputUri = upload.uri;
  }
  const dataProcessing = options.dataProcessing ?? {};
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
    ...(Object.keys(dataProcessing).length ? { DataProcessing: { ...dataProcessing } } : {}),
  };
  return { ...(upload ? { upload } : {}), request };
}
