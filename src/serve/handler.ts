/**
 * The contract between the HTTP layer and a model: the app decodes nothing itself, it hands each
 * /invocations request to a ModelHandler (built-in algorithm, ONNX, TensorFlow.js or user code).
 */

/** One /invocations request as the handler sees it. */
export interface InvocationRequest {
  readonly body: Buffer;
  /** The Content-Type header as sent (any spelling), parameters included; undefined when absent. */
  readonly contentType: string | undefined;
  /** The Accept header as sent; undefined when absent. */
  readonly accept: string | undefined;
  /** X-Amzn-SageMaker-Custom-Attributes, passed through opaque. */
  readonly customAttributes: string | undefined;
  readonly requestId: string;
  /** Aborted when the request times out (SAGEMAKER_MODEL_SERVER_TIMEOUT) or the client goes away. */
  readonly signal: AbortSignal;
}

/** What a handler answers. Errors are thrown as HttpError (4xx) or anything else (500). */
export interface InvocationResponse {
  readonly body: Buffer | string;
  readonly contentType: string;
  /** Set to echo X-Amzn-SageMaker-Custom-Attributes back to the caller. */
  readonly customAttributes?: string;
}

/** A loaded model, ready to answer invocations. */
export interface ModelHandler {
  /** What kind of model this is, for logs: `kmeans`, `pca`, `onnx`, `tfjs`, `user-code`. */
  readonly kind: string;
  invoke(request: InvocationRequest): Promise<InvocationResponse>;
  /** Frees native resources (onnxruntime sessions, tf.js memory). */
  close?(): Promise<void>;
  /**
   * How a worker thread of `withWorkerPool` loads its own copy of this same model. A handler without it
   * cannot be pooled (`withWorkerPool` refuses it unless given a `worker` option).
   */
  readonly workerLoad?: WorkerLoad;
}

/**
 * Where a worker thread finds a model loader: an ES module and the name of its export, a function
 * `(modelDir: string, context: { settings, log, kinds }) => Promise<ModelHandler>`.
 * @example { module: import.meta.url, exportName: 'loadMyModel' }
 */
export interface WorkerLoader {
  /** `file:` URL of the module (`import.meta.url` of the module that exports the loader). */
  readonly module: string;
  readonly exportName: string;
}

/** A `WorkerLoader` and the model directory it loads: everything a worker thread needs to load the model. */
export interface WorkerLoad extends WorkerLoader {
  readonly modelDir: string;
}
