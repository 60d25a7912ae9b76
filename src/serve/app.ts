import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type createExpress from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { ServingSettings } from '../contract/index.js';
import { errorMessage, HttpError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { executionParameters } from './batch.js';
import { readBody } from './body.js';
import type { InvocationResponse, ModelHandler } from './handler.js';
import { acceptsAnything } from './negotiate.js';
import { createTurnstile } from './turnstile.js';

const requireCjs = createRequire(import.meta.url);

/**
 * Bodies from this size on wait their turn (`turnstile.ts`) before computing: one large invocation per
 * event-loop turn. Smaller ones cost less than the wait.
 */
export const TURN_MIN_BYTES = 16 * 1024;

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

/** An invocation in flight, expired by the sweep timer after SAGEMAKER_MODEL_SERVER_TIMEOUT. */
interface Pending {
  readonly deadline: number;
  expire(): void;
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
  431: 'Request Header Fields Too Large',
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
  const turn = createTurnstile();
  let closed = false;
  const timeoutMs = settings.timeoutSeconds * 1000;
  // Request ids: a random per-process prefix and a counter, unique across the cluster's processes.
  const idPrefix = randomUUID().slice(0, 8);
  let requests = 0;
  // One sweep timer for all in-flight deadlines instead of a timer per request.
  const deadlines = new Set<Pending>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const pending of deadlines) {
        if (pending.deadline <= now) {
          deadlines.delete(pending);
          pending.expire();
        }
      }
    },
    Math.min(250, Math.max(10, timeoutMs / 10)),
  );
  sweep.unref();

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
          : `the model failed to load: ${failure}`;
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
    const requestId = `${idPrefix}-${(++requests).toString(36)}`;
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
    // Created on first use: most handlers never look at the signal.
    let controller: AbortController | undefined;
    const onClose = (): void => {
      if (!res.writableFinished) controller?.abort(new Error('client closed the connection'));
    };
    let bodyRead = false;
    const pending: Pending = {
      deadline: started + timeoutMs,
      expire() {
        controller?.abort(new Error('timeout'));
        if (!bodyRead) {
          // The client's fault, not the model's: a body that trickles in (or never ends) is a 408,
          // and the connection is closed rather than read further.
          log.info({ requestId, status: 408 }, 'invocation: the body did not arrive in time');
          sendJson(
            res,
            408,
            errorBody(
              408,
              `the request body did not arrive within ${settings.timeoutSeconds} s (SAGEMAKER_MODEL_SERVER_TIMEOUT)`,
              requestId,
            ),
            true,
          );
          res.once('finish', () => req.destroy());
          return;
        }
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
      },
    };
    deadlines.add(pending);
    try {
      const body = await readBody(req, settings.maxPayloadBytes);
      bodyRead = true;
      if (body.length >= TURN_MIN_BYTES) await turn();
      const accept = req.headers.accept;
      const answer: InvocationResponse = await model.invoke({
        body,
        contentType: contentTypeOf(req),
        accept: acceptsAnything(accept) ? settings.defaultAccept : accept,
        customAttributes: req.headers['x-amzn-sagemaker-custom-attributes'] as string | undefined,
        requestId,
        get signal() {
          if (!controller) {
            controller = new AbortController();
            res.once('close', onClose);
          }
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
      deadlines.delete(pending);
      if (controller) res.off('close', onClose);
      inFlight--;
    }
  }

  // express serves only the routes off the hot path, so it loads on first use (`require`: express is
  // CommonJS) rather than on every serving process's cold start.
  let routes: Express | undefined;
  function expressRoutes(): Express {
    if (routes) return routes;
    const express = requireCjs('express') as typeof createExpress;
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
    routes = app;
    return app;
  }

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
      expressRoutes()(req as Request, res as Response);
    }
  };

  return {
    listener,
    get express() {
      return expressRoutes();
    },
    state: () => state,
    loaded,
    inFlight: () => inFlight,
    async close() {
      closed = true;
      clearInterval(sweep);
      await loaded;
      await handler?.close?.();
    },
  };
}
