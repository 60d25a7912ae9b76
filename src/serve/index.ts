/**
 * `smkit/serve`: build a SageMaker serving container on smkit's HTTP app, model kinds, codecs and
 * worker pool.
 *
 * ```ts
 * import { createApp, listen, loadServingModel, readServingSettings, createLogger } from 'smkit/serve';
 * const settings = readServingSettings(process.env);
 * const log = createLogger(settings.logLevel);
 * const app = createApp({ loadHandler: () => loadServingModel('/opt/ml/model', { settings, log }), settings, log });
 * await listen(app, { port: settings.port });
 * ```
 */
export { readServingSettings, type ServingSettings } from '../contract/index.js';
export { createApp, errorResponse, type AppOptions, type AppSettings, type SmkitApp } from './app.js';
export { executionParameters } from './batch.js';
export type { ExecutionParameters, WireExecutionParameters } from '../contract/transform.js';
export {
  chooseDecoder,
  chooseEncoding,
  decodeBody,
  decoders,
  encoders,
  type BodyDecoder,
  type DecodedInput,
  type Decoder,
  type EncodeInput,
  type Encoder,
  type OutputField,
} from './codecs/index.js';
export { formatFloat } from './codecs/number-format.js';
export type {
  InvocationRequest,
  InvocationResponse,
  ModelHandler,
  WorkerLoad,
  WorkerLoader,
} from './handler.js';
export {
  type BuiltinModelKindOptions,
  builtinModelKind,
  createBuiltinModelKind,
} from './kinds/builtin/builtin.js';
export { createPredictorHandler, type PredictorHandlerOptions } from './kinds/builtin/predictor.js';
export { defaultModelKinds } from './kinds/index.js';
export type {
  HookTensorModel,
  InferenceContext,
  InferenceHooks,
  ModelContext,
} from './kinds/user-code/user-hooks.js';
export type { TensorModel } from './tensor/model.js';
export type {
  ElementType,
  HostTensor,
  NamedTensors,
  TensorData,
  TensorSpec,
  DeclaredDim,
} from './tensor/tensor.js';
export { detectModelKind, loadModel, type LoadContext, type ModelKind } from './kinds/kind.js';
export {
  listen,
  runServer,
  type ListenOptions,
  type RunningServer,
  type RunServerOptions,
} from './listen.js';
export { negotiate, parseAccept, type AcceptRange } from './negotiate.js';
export { withWorkerPool, type PooledModelHandler, type WorkerPoolOptions } from './pool.js';
export { loadServingModel, serve, type ServingModelOptions } from './server.js';
export { createModelSlot, type ModelSlot, type ModelSlotOptions, type ModelState } from './slot.js';
export { parseMediaType, type MediaType } from '../io/media-type.js';
export {
  BadRequest,
  HttpError,
  NotAcceptable,
  PayloadTooLarge,
  UnsupportedMediaType,
} from '../util/errors.js';
export { createLogger, type Logger } from '../util/log.js';
