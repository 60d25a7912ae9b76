/*
 * SageMaker's endpoint limits (contract section 2), for local mode's limit proxy, the serving settings'
 * defaults and the AWS commands' checks before a request is sent.
 */

const MIB = 1024 * 1024;

/** The limits a real-time endpoint holds its container to. */
export interface EndpointLimits {
  /** Each /ping must answer within this (2 s). */
  readonly pingTimeoutMs: number;
  /** The container must pass /ping within this after start (4 min; ContainerStartupHealthCheckTimeoutInSeconds). */
  readonly startupMs: number;
  /** Each /invocations must answer within this (60 s). */
  readonly invocationTimeoutMs: number;
  /** Request bodies up to this size (6 MiB). */
  readonly maxBodyBytes: number;
}

/** A real-time endpoint's limits. */
export const SAGEMAKER_LIMITS: EndpointLimits = Object.freeze({
  pingTimeoutMs: 2_000,
  startupMs: 240_000,
  invocationTimeoutMs: 60_000,
  maxBodyBytes: 6 * MIB,
});

/** ContainerStartupHealthCheckTimeoutInSeconds: 60 to 3600 s. */
export const STARTUP_HEALTH_CHECK_SECONDS = Object.freeze({ min: 60, max: 3600 });

/** A serverless endpoint takes request bodies up to 4 MB. */
export const SERVERLESS_MAX_BODY_BYTES = 4 * MIB;

/** Asynchronous inference: inputs up to 1 GB from S3, up to 1 h per request. */
export const ASYNC_LIMITS = Object.freeze({ maxBodyBytes: 1024 * MIB, invocationTimeoutMs: 3_600_000 });

/** Batch transform's requests to the container: up to 100 MB (MaxPayloadInMB), 600 s by default (ModelClientConfig). */
export const BATCH_LIMITS = Object.freeze({ maxBodyBytes: 100 * MIB, invocationTimeoutMs: 600_000 });

/** SAGEMAKER_MAX_PAYLOAD_IN_MB when unset: the real-time limit, in MB. */
export const DEFAULT_MAX_PAYLOAD_IN_MB = SAGEMAKER_LIMITS.maxBodyBytes / MIB;

/** SAGEMAKER_MODEL_SERVER_TIMEOUT when unset: the real-time invocation limit, in seconds. */
export const DEFAULT_MODEL_SERVER_TIMEOUT_SECONDS = SAGEMAKER_LIMITS.invocationTimeoutMs / 1000;
