import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { ServingSettings } from '../contract/index.js';
import { errorMessage, HttpError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { executionParameters } from './batch.js';
import { readBody } from './body.js';
import type { InvocationResponse, ModelHandler } from './handler.js';
import { acceptsAnything } from './negotiate.js';

/** The settings the app uses (a `ServingSettings` from `readServingSettings` fits). */
export type AppSettings = Pick<
  ServingSettings,
  | 'timeoutSeconds'
  | 'defaultAccept'
  | 'maxPayloadBytes'
  | 'workers'
  | 'batchStrategy'
  | 'maxConcurrentTransforms'
>;

/** Options of `createApp`: a ready handler, or a function that loads one (then /ping is 503 until it resolves). */
export interface AppOptions {
  readonly handler?: ModelHandler;
  readonly loadHandler?: () => Promise<ModelHandler>;
  readonly settings: AppSettings;
  readonly log: Logger;
  /** Log every /ping (off by default: SageMaker pings every few seconds and floods the logs). */
  readonly logPings?: boolean;
}

/** Readiness of the model: `loading` and `failed` answer /ping with 503. */
export type ModelState = 'loading' | 'ready' | 'failed';

/** The serving app: a node:http request listener plus its state. It binds no port (see `listen.ts`). */
export interface SmkitApp {
  /** Handles one request: /ping and /invocations directly on node:http, everything else through express. */
  readonly listener: RequestListener;
  /** The express app serving /execution-parameters, 404s and anything users mount on it. */
  readonly express: Express;
  state(): ModelState;
  /** Settles when loading has finished, successfully or not. */
  readonly loaded: Promise<void>;
  /** Number of /invocations in flight. */
  inFlight(): number;
  /** Stops answering invocations and frees the model. */
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The JSON error body every failure gets: `{"error": "Bad Request", "message": "...", "requestId": "..."}`. */
export function errorBody(status: number, message: string, requestId?: string): string {
  return JSON.stringify({
    error: STATUS_TEXT[status] ?? 'Error',
    message,
    ...(requestId ? { requestId } : {}),
  });
}

function sendJson(res: ServerResponse, status: number, body: string, close = false): void {
  if (res.headersSent || res.writableEnded) return;
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  };
  if (close) headers['Connection'] = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** The Content-Type however it was spelled: `Content-Type`, `content-type` or `ContentType`. */
function contentTypeOf(req: IncomingMessage): string | undefined {
  return req.headers['content-type'] ?? (req.headers['contenttype'] as string | undefined);
}

/**
 * Creates the serving app. Tests and users call it without a port:
 * `http.createServer(createApp({ handler, settings, log }).listener)`.
 */
export function createApp(options: AppOptions): SmkitApp {
  const { settings, log } = options;
  let handler = options.handler;
  let state: ModelState = handler ? 'ready' : 'loading';
  let failure = '';
  let inFlight = 0;
  let closed = false;
  const timeoutMs = settings.timeoutSeconds * 1000;

  if (!handler && !options.loadHandler) throw new Error('createApp needs a handler or a loadHandler');
  const loaded = (async () => {
    if (handler || !options.loadHandler) return;
    const started = Date.now();
    try {
      handler = await options.loadHandler();
      state = 'ready';
      log.info({ kind: handler.kind, ms: Date.now() - started }, 'model loaded');
    } catch (error) {
      state = 'failed';
      failure = errorMessage(error);
      log.error({ err: error }, `model failed to load: ${failure}`);
    }
  })();

  function ping(req: IncomingMessage, res: ServerResponse): void {
    if (options.logPings) log.info({ state }, 'ping');
    if (state === 'ready' && !closed) {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const message =
      state === 'loading'
        ? 'the model is loading'
        : closed
          ? 'the server is stopping'
          : 'the model failed to load';
    sendJson(res, 503, req.method === 'HEAD' ? '' : errorBody(503, message));
  }

  function fail(res: ServerResponse, error: unknown, requestId: string, started: number): void {
    let status = 500;
    let message: string;
    if (error instanceof HttpError) {
      status = error.status;
      message = error.message;
    } else {
      message = `the model failed on this request (request id ${requestId}); see the server log`;
      log.error({ requestId, err: error }, 'invocation failed');
    }
    if (status !== 500)
      log.info({ requestId, status, ms: Date.now() - started, reason: message }, 'invocation');
    sendJson(res, status, errorBody(status, message, requestId), status === 413);
  }

  async function invocations(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = randomUUID();
    if (state !== 'ready' || !handler || closed) {
      sendJson(
        res,
        503,
        errorBody(
          503,
          state === 'failed' ? `the model failed to load: ${failure}` : 'the model is not ready',
          requestId,
        ),
      );
      return;
    }
    const model = handler;
    inFlight++;
    // Created on first use: most handlers never look at the signal, and it costs a few microseconds.
    let controller: AbortController | undefined;
    const timer = setTimeout(() => {
      controller?.abort(new Error('timeout'));
      log.warn({ requestId, timeoutSeconds: settings.timeoutSeconds }, 'invocation timed out');
      sendJson(
        res,
        504,
        errorBody(
          504,
          `the model did not answer within ${settings.timeoutSeconds} s (SAGEMAKER_MODEL_SERVER_TIMEOUT)`,
          requestId,
        ),
      );
    }, timeoutMs);
    const onClose = (): void => {
      if (!res.writableFinished) controller?.abort(new Error('client closed the connection'));
    };
    res.once('close', onClose);
    try {
      const body = await readBody(req, settings.maxPayloadBytes);
      const accept = req.headers.accept;
      const answer: InvocationResponse = await model.invoke({
        body,
        contentType: contentTypeOf(req),
        accept: acceptsAnything(accept) ? settings.defaultAccept : accept,
        customAttributes: req.headers['x-amzn-sagemaker-custom-attributes'] as string | undefined,
        requestId,
        get signal() {
          controller ??= new AbortController();
          return controller.signal;
        },
      });
      if (!res.headersSent && !res.writableEnded) {
        const payload = answer.body;
        const headers: Record<string, string | number> = {
          'Content-Type': answer.contentType,
          'Content-Length': typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
        };
        if (answer.customAttributes !== undefined) {
          headers['X-Amzn-SageMaker-Custom-Attributes'] = answer.customAttributes;
        }
        res.writeHead(200, headers);
        res.end(payload);
        if (log.isLevelEnabled('debug')) {
          log.debug({ requestId, status: 200, ms: Date.now() - started }, 'invocation');
        }
      }
    } catch (error) {
      fail(res, error, requestId, started);
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
      inFlight--;
    }
  }

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/execution-parameters', (_req: Request, res: Response) => {
    res.json(executionParameters(settings));
  });
  app.use((req: Request, res: Response) => {
    sendJson(
      res,
      404,
      errorBody(404, `no route for ${req.method} ${req.path}; use GET /ping or POST /invocations`),
    );
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof HttpError ? error.status : 500;
    if (status === 500) log.error({ err: error }, 'request failed');
    sendJson(
      res,
      status,
      errorBody(status, status === 500 ? 'internal error; see the server log' : errorMessage(error)),
    );
  });

  const listener: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    const path = url.indexOf('?') < 0 ? url : url.slice(0, url.indexOf('?'));
    if (path === '/invocations') {
      if (req.method === 'POST') {
        void invocations(req, res);
      } else {
        sendJson(res, 405, errorBody(405, `use POST /invocations (got ${req.method})`));
      }
    } else if (path === '/ping') {
      if (req.method === 'GET' || req.method === 'HEAD') ping(req, res);
      else sendJson(res, 405, errorBody(405, `use GET /ping (got ${req.method})`));
    } else {
      app(req as Request, res as Response);
    }
  };

  return {
    listener,
    express: app,
    state: () => state,
    loaded,
    inFlight: () => inFlight,
    async close() {
      closed = true;
      await loaded;
      await handler?.close?.();
    },
  };
}
