/**
 * smkit as a library: build your own SageMaker serving container on smkit's HTTP app, codecs and
 * model detection. The fourth way ("own container on smkit") in a few lines:
 *
 * ```ts
 * import { createApp, listen, readServingSettings, createLogger } from 'smkit';
 * const settings = readServingSettings(process.env);
 * const app = createApp({ handler: myHandler, settings, log: createLogger(settings.logLevel) });
 * await listen(app, { port: settings.port });
 * ```
 */
export {
  readServingSettings,
  readTrainingSettings,
  resolvePaths,
  type ServingSettings,
} from './contract/index.js';
export { createApp, type AppOptions, type AppSettings, type ModelState, type SmkitApp } from './serve/app.js';
export { executionParameters } from './serve/batch.js';
export type { ExecutionParameters, WireExecutionParameters } from './contract/transform.js';
export {
  chooseDecoder,
  chooseEncoding,
  decodeBody,
  decoders,
  encoders,
  type DecodedInput,
  type EncodeInput,
  type OutputField,
} from './serve/codecs/index.js';
export { formatFloat } from './serve/codecs/number-format.js';
export {
  detectModelKind,
  loadModel,
  modelKinds,
  registerModelKind,
  type LoadContext,
  type ModelKind,
} from './serve/detect.js';
export type { InvocationRequest, InvocationResponse, ModelHandler } from './serve/handler.js';
export { createPredictorHandler } from './serve/handlers/predictor.js';
export { listen, runServer, type RunningServer } from './serve/listen.js';
export { negotiate, parseAccept, parseMediaType } from './serve/negotiate.js';
export { withWorkerPool } from './serve/pool.js';
export { loadServingModel, serve } from './serve/server.js';
export {
  BadRequest,
  HttpError,
  NotAcceptable,
  PayloadTooLarge,
  UnsupportedMediaType,
} from './util/errors.js';
export { createLogger, type Logger } from './util/log.js';
