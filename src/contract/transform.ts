import { z } from 'zod';
import { InputError } from '../util/errors.js';

/*
 * Batch transform's parameters and limits (CreateTransformJob), in SageMaker's API spelling. The two
 * places that speak another spelling convert at their edge: the container's GET /execution-parameters
 * answer and the SAGEMAKER_BATCH_STRATEGY variable use `MULTI_RECORD` / `SINGLE_RECORD`.
 */

/** TransformJob BatchStrategy. */
export const BatchStrategySchema = z.enum(['MultiRecord', 'SingleRecord']);
export type BatchStrategy = z.infer<typeof BatchStrategySchema>;

/** TransformInput.SplitType: how input files are cut into records. */
export const SplitTypeSchema = z.enum(['None', 'Line', 'RecordIO', 'TFRecord']);
export type SplitType = z.infer<typeof SplitTypeSchema>;

/** TransformOutput.AssembleWith: how answers are joined in `X.out`. */
export const AssembleWithSchema = z.enum(['None', 'Line']);
export type AssembleWith = z.infer<typeof AssembleWithSchema>;

/** DataProcessing.JoinSource. */
export const JoinSourceSchema = z.enum(['None', 'Input']);
export type JoinSource = z.infer<typeof JoinSourceSchema>;

/** DataProcessing: JSONPath filters (up to 63 characters each) and whether to join the input to the output. */
const JsonPathFilterSchema = z
  .string()
  .min(1, 'a JSONPath filter, e.g. $[1:]')
  .max(63, 'JSONPath filters are at most 63 characters, as in CreateTransformJob');
export const DataProcessingSchema = z.object({
  InputFilter: JsonPathFilterSchema.optional(),
  OutputFilter: JsonPathFilterSchema.optional(),
  JoinSource: JoinSourceSchema.default('None'),
});
export type DataProcessing = z.output<typeof DataProcessingSchema>;

/** Batch transform's limits and defaults. */
export const TRANSFORM_LIMITS = Object.freeze({
  /** MaxPayloadInMB is at most 100 (0 = no limit, chunked transfer). */
  maxPayloadInMB: 100,
  /** MaxConcurrentTransforms x MaxPayloadInMB must stay within this. */
  concurrencyTimesPayloadMB: 100,
  /** MaxPayloadInMB when neither the job nor the container sets it. */
  defaultPayloadInMB: 6,
  /** MaxConcurrentTransforms when neither the job nor the container sets it. */
  defaultConcurrency: 1,
  defaultStrategy: 'MultiRecord' as BatchStrategy,
  /** ModelClientConfig.InvocationsTimeoutInSeconds: default 600 s, at most 3600 s. */
  defaultInvocationTimeoutSeconds: 600,
  maxInvocationTimeoutSeconds: 3600,
  /** ModelClientConfig.InvocationsMaxRetries: default 3, at most 3. */
  defaultInvocationRetries: 3,
});

/** The three parameters a transform runs with (CreateTransformJob's, and /execution-parameters'). */
export interface ExecutionParameters {
  readonly BatchStrategy: BatchStrategy;
  readonly MaxConcurrentTransforms: number;
  readonly MaxPayloadInMB: number;
}

/** Where each parameter came from, for messages. */
export type ParameterSources = Readonly<Record<keyof ExecutionParameters, string>>;

/**
 * Checks the execution parameters against SageMaker's rules: 0 <= MaxPayloadInMB <= 100, an integer
 * MaxConcurrentTransforms >= 1, and MaxConcurrentTransforms x MaxPayloadInMB <= 100.
 * Throws an InputError naming the broken rule.
 */
export function checkExecutionParameters(
  parameters: ExecutionParameters,
  sources?: Partial<ParameterSources>,
): ExecutionParameters {
  const payload = parameters.MaxPayloadInMB;
  const concurrency = parameters.MaxConcurrentTransforms;
  if (!(payload >= 0 && payload <= TRANSFORM_LIMITS.maxPayloadInMB)) {
    const from = sources?.MaxPayloadInMB ? ` from ${sources.MaxPayloadInMB}` : '';
    throw new InputError(
      `MaxPayloadInMB must be between 0 and ${TRANSFORM_LIMITS.maxPayloadInMB} (got ${payload}${from})`,
    );
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InputError(`MaxConcurrentTransforms must be an integer >= 1 (got ${concurrency})`);
  }
  if (concurrency * payload > TRANSFORM_LIMITS.concurrencyTimesPayloadMB) {
    throw new InputError(
      `MaxConcurrentTransforms x MaxPayloadInMB must be <= ${TRANSFORM_LIMITS.concurrencyTimesPayloadMB} (got ${concurrency} x ${payload}); lower --concurrency or --max-payload`,
    );
  }
  return parameters;
}

/**
 * The most concurrent transforms up to `wanted` that keep MaxConcurrentTransforms x MaxPayloadInMB
 * within the limit (at least 1).
 */
export function concurrencyWithinLimit(wanted: number, payloadMB: number): number {
  if (payloadMB <= 0) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor(TRANSFORM_LIMITS.concurrencyTimesPayloadMB / payloadMB)));
}

/** The strategy as GET /execution-parameters and SAGEMAKER_BATCH_STRATEGY spell it. */
export type WireBatchStrategy = 'MULTI_RECORD' | 'SINGLE_RECORD';

/** `MultiRecord` -> `MULTI_RECORD`. */
export function toWireBatchStrategy(strategy: BatchStrategy): WireBatchStrategy {
  return strategy === 'SingleRecord' ? 'SINGLE_RECORD' : 'MULTI_RECORD';
}

/**
 * Reads a strategy in any spelling seen in the wild (`MultiRecord`, `MULTI_RECORD`, `multi_record`);
 * `undefined` for anything else.
 */
export function parseBatchStrategy(value: unknown): BatchStrategy | undefined {
  const text = String(value ?? '')
    .replace(/_/g, '')
    .toLowerCase();
  if (text === 'multirecord') return 'MultiRecord';
  if (text === 'singlerecord') return 'SingleRecord';
  return undefined;
}

/** The body of GET /execution-parameters, as SageMaker's batch transform reads it. */
export interface WireExecutionParameters {
  readonly MaxConcurrentTransforms: number;
  readonly BatchStrategy: WireBatchStrategy;
  readonly MaxPayloadInMB: number;
}

/** Execution parameters -> the /execution-parameters body. */
export function executionParametersToWire(parameters: ExecutionParameters): WireExecutionParameters {
  return {
    MaxConcurrentTransforms: parameters.MaxConcurrentTransforms,
    BatchStrategy: toWireBatchStrategy(parameters.BatchStrategy),
    MaxPayloadInMB: parameters.MaxPayloadInMB,
  };
}

/** What a container's /execution-parameters answer proposes; fields it lacks or misspells are left out. */
export function executionParametersFromWire(body: unknown): Partial<ExecutionParameters> {
  if (!body || typeof body !== 'object') return {};
  const json = body as Record<string, unknown>;
  const strategy = parseBatchStrategy(json.BatchStrategy);
  return {
    ...(strategy ? { BatchStrategy: strategy } : {}),
    ...(typeof json.MaxPayloadInMB === 'number' ? { MaxPayloadInMB: json.MaxPayloadInMB } : {}),
    ...(typeof json.MaxConcurrentTransforms === 'number'
      ? { MaxConcurrentTransforms: json.MaxConcurrentTransforms }
      : {}),
  };
}
