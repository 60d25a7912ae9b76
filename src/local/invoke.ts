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

/** The first of `names` set in the user's environment for the model server (its --env, then the parent's). */
function userSetting(model: TransformModelOptions, names: readonly string[]): string | undefined {
  for (const env of [model.env, model.parentEnv]) {
    for (const name of names) if (env?.[name] !== undefined) return env[name];
  }
  return undefined;
}

/**
 * What `smkit serve` gets for a local batch transform beyond SAGEMAKER_BATCH=true (which already makes it
 * one serving process computing on every core, proposing a transform per core: `BATCH_DEFAULT_WORKERS`).
 * A user's image decides for itself.
 */
function batchServerEnv(model: TransformModelOptions): Record<string, string> {
  if (model.image) return {};
  const env: Record<string, string> = {};
  // glibc raises its mmap threshold to the size of the first large block freed, after which each
  // megabyte batch buffer came from a heap arena that kept the pages: a fixed threshold gives every
  // buffer of 128 KiB and up its own mapping, returned when the buffer is freed (-25 MiB at peak).
  if (userSetting(model, ['MALLOC_MMAP_THRESHOLD_']) === undefined) env.MALLOC_MMAP_THRESHOLD_ = '131072';
  return env;
}

/**
 * `smkit serve` for a batch transform with a young generation of 1 MiB per isolate (V8's default grows
 * it to 16): what a serving thread allocates per mini-batch is a few objects around megabyte buffers (the
 * body's socket chunks, the parsed values, the answer), which live outside the JS heap and are freed by
 * the scavenges that a small young generation makes frequent. With the default, a serving process held
 * 300 MiB of dead 6 MB batches at concurrency 2; with 1 MiB, about 200, for no measurable CPU.
 */
function batchServerCommand(command: readonly string[]): readonly string[] {
  const [node, ...rest] = command;
  if (node !== process.execPath || rest.some((arg) => arg.startsWith('--max-semi-space-size')))
    return command;
  return [node, '--max-semi-space-size=1', ...rest];
}

/**
 * Runs a transform against `options.endpoint`, or, with `model.model`, against an endpoint started for it
 * as batch transform starts its container: SAGEMAKER_BATCH=true plus the parameters the user set (and,
 * for `smkit serve`, `batchServerEnv`). The transform talks to the model server directly, not through the
 * endpoint's limit proxy: it keeps within batch transform's limits itself (bodies of at most
 * MaxPayloadInMB, its own per-request timeout), and megabyte bodies passing through a proxy in the
 * transform's own process cost that process a second send and receive of every byte.
 */
export async function transformWithModel(
  options: Omit<TransformOptions, 'endpoint'> & { readonly endpoint?: string },
  model: TransformModelOptions,
): Promise<TransformResult> {
  if (!model.model) return runTransform({ ...options, endpoint: options.endpoint! });
  const endpoint = await startLocalEndpoint({
    ...model,
    smkitCommand: batchServerCommand(model.smkitCommand),
    model: model.model,
    port: 0,
    env: {
      ...batchServerEnv(model),
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
    return await runTransform({ ...options, endpoint: endpoint.serverUrl });
  } finally {
    await endpoint.close();
  }
}
