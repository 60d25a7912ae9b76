import type { ServingSettings } from '../contract/index.js';

/** The body of GET /execution-parameters (SageMaker batch transform). */
export interface ExecutionParameters {
  readonly MaxConcurrentTransforms: number;
  readonly BatchStrategy: 'MULTI_RECORD' | 'SINGLE_RECORD';
  readonly MaxPayloadInMB: number;
}

/**
 * What the container proposes to batch transform: the SAGEMAKER_* values when the job set them,
 * otherwise one transform per worker, MULTI_RECORD and the payload limit, kept within SageMaker's rule
 * MaxConcurrentTransforms x MaxPayloadInMB <= 100.
 */
export function executionParameters(
  settings: Pick<
    ServingSettings,
    'maxConcurrentTransforms' | 'batchStrategy' | 'maxPayloadBytes' | 'workers'
  >,
): ExecutionParameters {
  const payloadMb = Math.min(100, Math.round(settings.maxPayloadBytes / (1024 * 1024)));
  const wanted = settings.maxConcurrentTransforms ?? settings.workers;
  const concurrency = payloadMb > 0 ? Math.max(1, Math.min(wanted, Math.floor(100 / payloadMb))) : wanted;
  return {
    MaxConcurrentTransforms: concurrency,
    BatchStrategy: settings.batchStrategy ?? 'MULTI_RECORD',
    MaxPayloadInMB: payloadMb,
  };
}
