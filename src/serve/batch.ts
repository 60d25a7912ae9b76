import { poolThreadsPerProcess, type ServingSettings } from '../contract/index.js';
import {
  concurrencyWithinLimit,
  executionParametersToWire,
  TRANSFORM_LIMITS,
  type WireExecutionParameters,
} from '../contract/transform.js';

/**
 * The body of GET /execution-parameters: what the container proposes to batch transform: the SAGEMAKER_* values when the job set them,
 * otherwise one transform per serving thread (processes x pool threads each; in a batch container's one
 * process by default, a core each for its HTTP thread and its pool threads), MULTI_RECORD and the payload limit, kept within SageMaker's rule
 * MaxConcurrentTransforms x MaxPayloadInMB <= 100.
 */
export function executionParameters(
  settings: Pick<
    ServingSettings,
    'maxConcurrentTransforms' | 'batchStrategy' | 'maxPayloadBytes' | 'workers' | 'cpuCount'
  >,
): WireExecutionParameters {
  const payloadMb = Math.min(
    TRANSFORM_LIMITS.maxPayloadInMB,
    Math.round(settings.maxPayloadBytes / (1024 * 1024)),
  );
  return executionParametersToWire({
    MaxConcurrentTransforms: concurrencyWithinLimit(
      settings.maxConcurrentTransforms ?? settings.workers * poolThreadsPerProcess(settings),
      payloadMb,
    ),
    BatchStrategy: settings.batchStrategy ?? TRANSFORM_LIMITS.defaultStrategy,
    MaxPayloadInMB: payloadMb,
  });
}
