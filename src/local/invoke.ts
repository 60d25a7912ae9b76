import { ENV } from '../contract/index.js';
import { BATCH_LIMITS, SAGEMAKER_LIMITS } from '../contract/limits.js';
import { toWireBatchStrategy } from '../contract/transform.js';
import { type HttpAnswer, send } from '../io/http-client.js';
import { SmkitError } from '../util/errors.js';
import { type LocalEndpointOptions, startLocalEndpoint } from './local-endpoint.js';
import { runTransform, type TransformOptions, type TransformResult } from './transform.js';

/** One InvokeEndpoint call. */
export interface InvokeOptions {
  readonly endpoint: string;
  readonly contentType: string;
  readonly accept?: string;
  readonly body: Buffer;
  readonly customAttributes?: string;
  /** Multi-model endpoints: `TargetModel`, sent as X-Amzn-SageMaker-Target-Model. */
  readonly targetModel?: string;
}

/** POSTs one body to `/invocations` with the headers InvokeEndpoint sends. */
export async function invokeEndpoint(options: InvokeOptions): Promise<HttpAnswer> {
  try {
    return await send(`${options.endpoint.replace(/\/$/, '')}/invocations`, {
      method: 'POST',
      body: options.body,
      headers: {
        'content-type': options.contentType,
        ...(options.accept ? { accept: options.accept } : {}),
        ...(options.customAttributes
          ? { 'x-amzn-sagemaker-custom-attributes': options.customAttributes }
          : {}),
        ...(options.targetModel ? { 'x-amzn-sagemaker-target-model': options.targetModel } : {}),
      },
      // The endpoint's own 60 s limit answers first; this only catches an endpoint that never does.
      timeoutMs: SAGEMAKER_LIMITS.invocationTimeoutMs + 10_000,
    });
  } catch (error) {
    throw new SmkitError(
      `cannot reach ${options.endpoint}: ${(error as Error).message}; start one with \`smkit local serve --model model.tar.gz\``,
    );
  }
}

/** How `transform --model` starts its own endpoint. */
export interface TransformModelOptions
  extends Pick<LocalEndpointOptions, 'image' | 'smkitCommand' | 'parentEnv' | 'onLog'> {
  readonly model?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs a transform against `options.endpoint`, or, with `model.model`, against an endpoint started for it
 * as batch transform starts its container: SAGEMAKER_BATCH=true plus the parameters the user set.
 */
export async function transformWithModel(
  options: Omit<TransformOptions, 'endpoint'> & { readonly endpoint?: string },
  model: TransformModelOptions,
): Promise<TransformResult> {
  if (!model.model) return runTransform({ ...options, endpoint: options.endpoint! });
  const endpoint = await startLocalEndpoint({
    ...model,
    model: model.model,
    port: 0,
    env: {
      ...model.env,
      [ENV.batch]: 'true',
      ...(options.strategy ? { [ENV.batchStrategy]: toWireBatchStrategy(options.strategy) } : {}),
      ...(options.maxPayloadMb !== undefined ? { [ENV.maxPayloadInMb]: String(options.maxPayloadMb) } : {}),
      ...(options.concurrency !== undefined
        ? { [ENV.maxConcurrentTransforms]: String(options.concurrency) }
        : {}),
    },
    // Batch transform allows up to 100 MB bodies and waits 600 s per request (ModelClientConfig defaults).
    limits: BATCH_LIMITS,
  });
  try {
    await endpoint.ready;
    return await runTransform({ ...options, endpoint: endpoint.url });
  } finally {
    await endpoint.close();
  }
}
