/**
 * User inference code: `code/inference.js|.mjs|.ts` in the model directory, or SAGEMAKER_PROGRAM in
 * SAGEMAKER_SUBMIT_DIRECTORY. Its hooks replace smkit's steps one at a time; each hook gets a context
 * object last and may return a promise.
 *
 * Defaults: model = the model smkit detects in the model directory (ONNX, TF.js, built-in); input = the
 * codecs by Content-Type; predict = `model.predict(data)` (or `model(data)`); output = the codecs by Accept.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareCodeDir } from '../../../io/archive/code-dir.js';
import { HttpError, InputError, SmkitError } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { chooseDecoder } from '../../codecs/index.js';
import type { LoadContext, ModelKind } from '../kind.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../../handler.js';
import { feedsFromValue } from '../../tensor/bind.js';
import type { TensorModel } from '../../tensor/model.js';
import { decodeTensorBody, type TensorModelHandler } from '../../tensor/tensor-handler.js';
import type { NamedTensors } from '../../tensor/tensor.js';
import { encodeValue } from './user-output.js';
import {
  type HookTensorModel,
  type InferenceContext,
  type InferenceHooks,
  importUserModule,
  type ModelContext,
  resolveHooks,
} from './user-hooks.js';

/** The model kind's name; the default model loader skips it. */
export const USER_CODE_KIND = 'user-code';

/** File names looked for, in order, when SAGEMAKER_PROGRAM is not set. */
export const DEFAULT_PROGRAMS = ['inference.js', 'inference.mjs', 'inference.ts'] as const;

const RUNNABLE = /\.(js|mjs|cjs|ts|mts)$/;

/** Where the user's program is: SAGEMAKER_PROGRAM in `codeDir`, else the first of {@link DEFAULT_PROGRAMS}. */
export function findProgram(codeDir: string, program: string | undefined): string | undefined {
  if (program) {
    if (!RUNNABLE.test(program)) {
      throw new InputError(
        `SAGEMAKER_PROGRAM=${program} is not a JavaScript or TypeScript module; smkit runs .js, .mjs, .cjs, ` +
          '.ts or .mts inference code (e.g. inference.js)',
      );
    }
    const file = path.resolve(codeDir, program);
    const relative = path.relative(codeDir, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InputError(`SAGEMAKER_PROGRAM=${program} points outside the code directory ${codeDir}`);
    }
    if (!existsSync(file)) throw new InputError(`SAGEMAKER_PROGRAM=${program}: ${file} does not exist`);
    return file;
  }
  return DEFAULT_PROGRAMS.map((name) => path.join(codeDir, name)).find((file) => existsSync(file));
}

/** Options of {@link createUserCodeHandler}. */
export interface UserCodeOptions {
  readonly hooks: InferenceHooks;
  /** The program file, for messages. */
  readonly file: string;
  readonly modelDir: string;
  readonly logger: Logger;
  /** The default model loader (detection without user code); called only when there is no modelFn. */
  readonly loadDefaultModel: (modelDir: string) => Promise<ModelHandler | undefined>;
}

function isTensorHandler(model: unknown): model is TensorModelHandler {
  return typeof model === 'object' && model !== null && 'tensorModel' in model;
}

function isTensorModel(model: unknown): model is TensorModel {
  const candidate = model as Partial<TensorModel> | null;
  return (
    typeof candidate?.predict === 'function' &&
    Array.isArray(candidate.inputs) &&
    Array.isArray(candidate.outputs)
  );
}

/**
 * int64 outputs as numbers (float64) when every value is a safe integer, so that hooks can
 * `JSON.stringify` them; tensors with larger values keep their BigInt64Array.
 */
function numbersWhenSafe(outputs: NamedTensors): NamedTensors {
  const converted: Record<string, NamedTensors[string]> = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    const data = tensor.data as unknown as { [Symbol.toStringTag]: string };
    const safe =
      data[Symbol.toStringTag] === 'BigInt64Array' &&
      (tensor.data as BigInt64Array).every(
        (v) => v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER),
      );
    converted[name] = safe
      ? {
          type: 'float64',
          shape: tensor.shape,
          data: Float64Array.from(tensor.data as BigInt64Array, Number),
        }
      : tensor;
  }
  return converted;
}

/**
 * The default ONNX/TF.js model as hooks see it: `inputs`, `outputs` and a `predict(data)` that takes
 * what the default inputFn returns (or host tensors, or nested number lists), as the README promises,
 * and gives int64 outputs as numbers when they are safe integers.
 */
function hookView(model: TensorModel): HookTensorModel {
  const view = Object.create(model) as HookTensorModel;
  view.predict = async (data: unknown) =>
    numbersWhenSafe(await model.predict(feedsFromValue(model.inputs, data)));
  return view;
}

/** Errors thrown by hooks with a numeric `status`/`statusCode` of 4xx/5xx keep it; others become 500. */
function asHttpError(error: unknown): unknown {
  if (error instanceof SmkitError || typeof error !== 'object' || error === null) return error;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) {
    return new HttpError(status, (error as Error).message ?? String(error));
  }
  return error;
}

function defaultPredict(file: string) {
  return async (data: unknown, model: unknown): Promise<unknown> => {
    if (isTensorModel(model)) return model.predict(feedsFromValue(model.inputs, data));
    if (typeof model === 'function') return model(data);
    const predict = (model as { predict?: unknown } | null)?.predict;
    if (typeof predict === 'function') return predict.call(model, data);
    throw new SmkitError(
      `${file} defines no predictFn, and the model has no predict(data) method: define ` +
        'predictFn(data, model, context), or return an object with predict() from modelFn',
    );
  };
}

/**
 * Builds the handler around loaded hooks: loads the model once (modelFn or the default), then answers
 * each request through transformFn, or inputFn -> predictFn -> outputFn with defaults for the missing ones.
 */
export async function createUserCodeHandler(options: UserCodeOptions): Promise<ModelHandler> {
  const { hooks, file, modelDir, logger } = options;
  const modelContext: ModelContext = { modelDir, logger };
  const loaded = hooks.modelFn
    ? await hooks.modelFn(modelDir, modelContext)
    : await options.loadDefaultModel(modelDir);
  // Hooks see a default ONNX/TF.js model as its TensorModel (inputs, outputs, predict(data)).
  const model = isTensorHandler(loaded) ? hookView(loaded.tensorModel) : loaded;
  const delegate =
    !hooks.inputFn &&
    !hooks.predictFn &&
    !hooks.outputFn &&
    !hooks.transformFn &&
    typeof (loaded as ModelHandler)?.invoke === 'function'
      ? (loaded as ModelHandler)
      : undefined;
  const predict = hooks.predictFn ?? defaultPredict(file);
  const decode = (body: Buffer, contentType: string | undefined) =>
    isTensorModel(model)
      ? decodeTensorBody(model, body, contentType)
      : chooseDecoder(contentType).decode(body, undefined);

  return {
    kind: USER_CODE_KIND,
    async invoke(request: InvocationRequest): Promise<InvocationResponse> {
      if (delegate) return delegate.invoke(request);
      let customAttributes: string | undefined;
      const context: InferenceContext = {
        requestId: request.requestId,
        customAttributes: request.customAttributes,
        setCustomAttributes(value: string) {
          customAttributes = String(value);
        },
        accept: request.accept,
        contentType: request.contentType,
        modelDir,
        logger: logger.child({ requestId: request.requestId }),
        signal: request.signal,
      };
      try {
        if (hooks.transformFn) {
          const result = await hooks.transformFn(
            model,
            request.body,
            request.contentType,
            request.accept,
            context,
          );
          return withAttributes(encodeValue(result, request.accept), customAttributes);
        }
        const data = hooks.inputFn
          ? await hooks.inputFn(request.body, request.contentType, context)
          : decode(request.body, request.contentType);
        const prediction = await predict(data, model, context);
        if (hooks.outputFn) {
          const result = await hooks.outputFn(prediction, request.accept, context);
          return withAttributes(encodeValue(result, request.accept), customAttributes);
        }
        return withAttributes(encodeValue(prediction, request.accept), customAttributes);
      } catch (error) {
        throw asHttpError(error);
      }
    },
    async close() {
      const closable = loaded as { close?: unknown } | null;
      if (typeof closable?.close === 'function') await (closable.close as () => unknown).call(loaded);
    },
  };
}

function withAttributes(
  response: InvocationResponse,
  customAttributes: string | undefined,
): InvocationResponse {
  return customAttributes === undefined ? response : { ...response, customAttributes };
}

/**
 * Loads the model smkit would serve without user code: the first other kind that detects it. Without one,
 * user code that predicts by itself (transformFn or predictFn) gets `undefined`; otherwise the load fails.
 */
export async function loadDefaultModel(
  modelDir: string,
  context: LoadContext,
  file: string,
  hooks: InferenceHooks,
): Promise<ModelHandler | undefined> {
  const others = context.kinds.filter((kind) => kind.name !== USER_CODE_KIND);
  for (const kind of others) {
    if (await kind.detect(modelDir, context)) return kind.load(modelDir, context);
  }
  if (hooks.transformFn || hooks.predictFn) return undefined;
  throw new InputError(
    `${file} defines no modelFn, and ${modelDir} holds no model smkit can load ` +
      `(${others.map((k) => k.marker).join(', ')}): define modelFn(modelDir, context) or add the model file`,
  );
}

/** A submit directory that must be fetched or unpacked first: `s3://...` or a local `.tar.gz`. */
function isArchive(submitDirectory: string): boolean {
  return submitDirectory.startsWith('s3://') || /\.(tar\.gz|tgz)$/.test(submitDirectory);
}

/** Where user code lives when it needs no unpacking: a local SAGEMAKER_SUBMIT_DIRECTORY, else `<model>/code`. */
export function codeDirOf(modelDir: string, submitDirectory: string | undefined): string {
  if (submitDirectory && !isArchive(submitDirectory)) {
    return path.resolve(submitDirectory.replace(/^file:\/\//, ''));
  }
  return path.join(modelDir, 'code');
}

/**
 * The code directory, ready to import from: an `s3://.../sourcedir.tar.gz` is downloaded and a tarball
 * extracted (safely, by the training runner's extractor) into a fresh directory under the temp dir,
 * since /opt/ml is read-only when serving.
 */
export async function prepareServingCodeDir(modelDir: string, context: LoadContext): Promise<string> {
  const { submitDirectory, region, s3Endpoint, maxExtractBytes } = context.settings;
  if (!submitDirectory || !isArchive(submitDirectory)) return codeDirOf(modelDir, submitDirectory);
  const codeDir = await mkdtemp(path.join(os.tmpdir(), 'smkit-code-'));
  await prepareCodeDir({
    submitDirectory,
    codeDir,
    log: context.log,
    region,
    endpoint: s3Endpoint,
    maxExtractBytes,
  });
  return codeDir;
}

/** Loads user code from the model (or submit) directory and wraps it in a handler. */
export async function loadUserCode(modelDir: string, context: LoadContext): Promise<ModelHandler> {
  const codeDir = await prepareServingCodeDir(modelDir, context);
  const file = findProgram(codeDir, context.settings.program);
  if (!file) {
    throw new InputError(
      `no inference code in ${codeDir}: expected ${DEFAULT_PROGRAMS.join(', ')} or SAGEMAKER_PROGRAM`,
    );
  }
  const hooks = resolveHooks(await importUserModule(file), file);
  const defined = Object.keys(hooks);
  context.log.info({ file, hooks: defined }, 'loading user inference code');
  if (defined.length === 0) {
    context.log.warn(
      { file },
      `${file} defines none of modelFn, inputFn, predictFn, outputFn, transformFn: serving with the defaults`,
    );
  }
  return createUserCodeHandler({
    hooks,
    file,
    modelDir,
    logger: context.log,
    loadDefaultModel: (dir) => loadDefaultModel(dir, context, file, hooks),
  });
}

/** The model kind for user inference code; it comes first, since user code wraps the other kinds. */
export const userCodeModelKind: ModelKind = {
  name: USER_CODE_KIND,
  marker: 'code/inference.js (or .mjs, .ts)',
  detect: async (modelDir, context) => {
    const { submitDirectory, program } = context.settings;
    // An archive to fetch says the user brought code; what is inside is checked when it loads.
    if (submitDirectory && isArchive(submitDirectory)) return true;
    return findProgram(codeDirOf(modelDir, submitDirectory), program) !== undefined;
  },
  load: loadUserCode,
};
