/**
 * The user's inference hooks, as a module exports them: `modelFn`, `inputFn`, `predictFn`, `outputFn`,
 * `transformFn` (or `model_fn` ... `transform_fn`, as SageMaker's Python toolkits name them), as named
 * exports or on a default-exported object (CommonJS `module.exports = { ... }`).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import type { TensorModel } from '../../tensor/model.js';
import type { NamedTensors } from '../../tensor/tensor.js';

/** What every hook gets last: the request and ways to answer beyond the body. */
export interface InferenceContext {
  readonly requestId: string;
  /** X-Amzn-SageMaker-Custom-Attributes as sent; undefined when absent. */
  readonly customAttributes: string | undefined;
  /** Sets X-Amzn-SageMaker-Custom-Attributes on the response (only then is it sent back). */
  setCustomAttributes(value: string): void;
  /** The Accept header, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT when it was missing or `*\/*`. */
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
  readonly modelDir: string;
  readonly logger: Logger;
  /** Aborted when the request times out or the client goes away. */
  readonly signal: AbortSignal;
}

/** What `modelFn` gets last. */
export interface ModelContext {
  readonly modelDir: string;
  readonly logger: Logger;
}

/**
 * The default ONNX/TF.js model as hooks get it (from the default modelFn): the model's declared
 * `inputs` and `outputs`, and a `predict` that takes what the default inputFn returns (a
 * `DecodedInput`), host tensors or nested number lists, and gives int64 outputs as float64 tensors when
 * every value is a safe integer (else as a BigInt64Array).
 */
export interface HookTensorModel extends Omit<TensorModel, 'predict'> {
  predict(data: unknown): Promise<NamedTensors>;
}

/** The hooks a user module may define; each one falls back to smkit's default when absent. */
export interface InferenceHooks {
  modelFn?(modelDir: string, context: ModelContext): unknown;
  inputFn?(body: Buffer, contentType: string | undefined, context: InferenceContext): unknown;
  predictFn?(data: unknown, model: unknown, context: InferenceContext): unknown;
  outputFn?(prediction: unknown, accept: string | undefined, context: InferenceContext): unknown;
  transformFn?(
    model: unknown,
    body: Buffer,
    contentType: string | undefined,
    accept: string | undefined,
    context: InferenceContext,
  ): unknown;
}

const HOOKS = [
  ['modelFn', 'model_fn'],
  ['inputFn', 'input_fn'],
  ['predictFn', 'predict_fn'],
  ['outputFn', 'output_fn'],
  ['transformFn', 'transform_fn'],
] as const;

type HookName = (typeof HOOKS)[number][0];

/** Imports a user module: `.js`/`.mjs`/`.cjs` natively, `.ts`/`.mts` through tsx's ESM API. */
export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path.resolve(file)).href;
  try {
    if (/\.[cm]?ts$/.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`cannot load ${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads the hooks from a module and checks them: functions only, one spelling per hook, and no
 * `transformFn` next to `inputFn`/`predictFn`/`outputFn` (it replaces them). `file` names the module in
 * messages.
 */
export function resolveHooks(module: Record<string, unknown>, file: string): InferenceHooks {
  const fallback = module['default'];
  const sources: Record<string, unknown>[] = [module];
  if (fallback !== null && typeof fallback === 'object') sources.push(fallback as Record<string, unknown>);
  const hooks: Record<string, unknown> = {};
  for (const [camel, snake] of HOOKS) {
    const found = sources.flatMap((source) =>
      [camel, snake]
        .filter((name) => source[name] !== undefined)
        .map((name) => ({ name, value: source[name] })),
    );
    const names = [...new Set(found.map((f) => f.name))];
    if (names.length > 1) {
      throw new InputError(`${file} defines both ${names.join(' and ')}: keep one of them`);
    }
    const hook = found[0];
    if (!hook) continue;
    if (typeof hook.value !== 'function') {
      throw new InputError(`${file}: ${hook.name} must be a function (got ${typeof hook.value})`);
    }
    hooks[camel] = hook.value;
  }
  const replaced = (['inputFn', 'predictFn', 'outputFn'] as HookName[]).filter((name) => hooks[name]);
  if (hooks['transformFn'] && replaced.length > 0) {
    throw new InputError(
      `${file} defines transformFn together with ${replaced.join(', ')}: transformFn replaces inputFn, ` +
        `predictFn and outputFn. Remove transformFn, or move the work of ${replaced.join(', ')} into ` +
        'transformFn and remove them',
    );
  }
  return hooks as InferenceHooks;
}
