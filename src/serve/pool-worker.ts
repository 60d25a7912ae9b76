/**
 * A piscina worker thread that serves large invocations off the HTTP thread. It loads its own copy of
 * the model, once, on its first task, with the loader the pooled handler named (`WorkerLoad`), so it
 * answers with the same model as the HTTP thread.
 */
import type { ServingSettings } from '../contract/index.js';
import { errorMessage, HttpError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/log.js';
import { collectYoungGarbage, YOUNG_GARBAGE_MIN_BYTES } from '../util/young-garbage.js';
import type { InvocationResponse, ModelHandler, WorkerLoad } from './handler.js';

/** One invocation sent to a worker thread (everything structured-clonable). */
export interface PoolTask {
  /** The loader and model directory (the module already importable by a worker thread). */
  readonly load: WorkerLoad;
  readonly settings: ServingSettings;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly customAttributes: string | undefined;
  readonly requestId: string;
  /** Only load the model (sent once when the pool starts; large bodies run inline until it answers). */
  readonly warm?: boolean;
}

/** A worker thread's answer: the response, an HTTP error, or a fault (already logged in the worker). */
export type PoolResult =
  | { readonly ok: InvocationResponse }
  | { readonly warmed: true }
  | { readonly status: number; readonly message: string }
  | { readonly fault: string };

let model: Promise<ModelHandler> | undefined;

async function loadWith(load: WorkerLoad, settings: ServingSettings, log: Logger): Promise<ModelHandler> {
  const loader = ((await import(load.module)) as Record<string, unknown>)[load.exportName];
  if (typeof loader !== 'function') {
    throw new Error(`${load.module} exports no function ${load.exportName} to load a model with`);
  }
  return (await loader(load.modelDir, { settings, log, kinds: [] })) as ModelHandler;
}

export default async function invoke(task: PoolTask): Promise<PoolResult> {
  const log = createLogger(task.settings.logLevel, { thread: 'pool' });
  model ??= loadWith(task.load, task.settings, log);
  try {
    const handler = await model;
    if (task.warm) return { warmed: true };
    // The previous body (moved here from the HTTP thread, megabytes outside the JS heap) and what was
    // made from it are garbage by now, but a thread that allocates little JS scavenges rarely: a batch
    // transform's threads held several dead bodies each. Collect them before this body adds its own
    // (a thread that gets small bodies, SMKIT_POOL_MIN_BYTES set low, scavenges in the usual way).
    if (task.body.byteLength >= YOUNG_GARBAGE_MIN_BYTES) collectYoungGarbage();
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    const ok = await handler.invoke({
      body,
      contentType: task.contentType,
      accept: task.accept,
      customAttributes: task.customAttributes,
      requestId: task.requestId,
      signal: new AbortController().signal,
    });
    return { ok };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, message: error.message };
    log.error({ requestId: task.requestId, err: error }, 'invocation failed on a worker thread');
    return { fault: errorMessage(error) };
  }
}
