import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type createExpress from 'express';
import type { Express, Request, Response } from 'express';
import type { ServingSettings } from '../contract/index.js';
import { HttpError, PayloadTooLarge } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { executionParameters } from './batch.js';
import { readBody } from '../io/http-body.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from './handler.js';
import { acceptsAnything } from './negotiate.js';
import { createModelSlot, type ModelSlot, type ModelState } from './slot.js';
import { createTurnstile } from './turnstile.js';

export type { ModelState } from './slot.js';

const requireCjs = createRequire(import.meta.url);

/**
 * Bodies from this size on wait their turn (`turnstile.ts`) before computing: one large invocation per
 * event-loop turn. Smaller ones cost less than the wait. Chosen from `npm run bench:sweep`
 * (bench/results/sweep.json: 1 to 10,000-row CSV bodies, inline with and without turns, /ping p99 and
 * rows/s at each size); the committed sweep ran on a machine loaded far past its 2 cores and did not
 * separate the routes, so 16 KiB stays until a quiet re-run picks the smallest size from which turns win.
 */
export const TURN_MIN_BYTES = 16 * 1024;

/** The settings the app uses (a `ServingSettings` from `readServingSettings` fits). */
export type AppSettings = Pick<
  ServingSettings,
  | 'timeoutSeconds'
  | 'defaultAccept'
  | 'maxPayloadBytes'
  | 'workers'
  | 'cpuCount'
  | 'batchStrategy'
  | 'maxConcurrentTransforms'
>;

/**
 * Options of `createApp`: a ready handler, a function that loads one (then /ping is 503 until it
 * resolves), or a model slot (loaded here when it is unloaded).
 */
export interface AppOptions {
  readonly handler?: ModelHandler;
  readonly loadHandler?: () => Promise<ModelHandler>;
  readonly slot?: ModelSlot;
  readonly settings: AppSettings;
  readonly log: Logger;
  /** Log every /ping (off by default: SageMaker pings every few seconds and floods the logs). */
  readonly logPings?: boolean;
  /**
   * More routes, tried after /ping and /invocations and before express (the multi-model `/models`
   * routes): answers the request and returns true, or returns false to pass it on.
   */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** Bodies from this many bytes on take turns (default `TURN_MIN_BYTES`; `Infinity`: none do). */
  readonly turnMinBytes?: number;
}

/**
 * One /invocations request in flight: what the handler sees (an `InvocationRequest`) and what the
 * sweep timer needs to expire it after SAGEMAKER_MODEL_SERVER_TIMEOUT. A class, not an object literal
 * with a `get signal()` and closures: a literal with its own accessor gets a hidden class of its own on
 * every request, which lives in old space and kept each request's whole object graph (body, socket
 * buffers, answer) alive past the young-generation collections until the next full one. Under
 * single-row load that was 40% of allocations surviving, 5-30 ms scavenge pauses and mark-compacts
 * twice a second (see bench/serve.ts, `--trace-gc`).
 */
class Invocation implements InvocationRequest {
  body: Buffer = EMPTY_BODY;
  contentType: string | undefined = undefined;
  accept: string | undefined = undefined;
  customAttributes: string | undefined = undefined;
  // Private fields: the handler gets this object, and its own enumerable properties stay the
  // request's (what a spread or a JSON.stringify of it shows).
  readonly #deadline: number;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #bodyRead = false;
  #controller: AbortController | undefined = undefined;
  #onClose: (() => void) | undefined = undefined;

  constructor(
    readonly requestId: string,
    deadline: number,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    this.#deadline = deadline;
    this.#req = req;
    this.#res = res;
  }

  /** Created on first use: most handlers never look at the signal. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      const res = this.#res;
      this.#controller = controller;
      this.#onClose = () => {
        if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
      };
      res.once('close', this.#onClose);
    }
    return this.#controller.signal;
  }

  /** When SAGEMAKER_MODEL_SERVER_TIMEOUT runs out (epoch ms). */
  deadline(): number {
    return this.#deadline;
  }

  httpRequest(): IncomingMessage {
    return this.#req;
  }

  httpResponse(): ServerResponse {
    return this.#res;
  }

  /** False until the body has arrived: a timeout before then is the client's (408), after it the model's (504). */
  bodyRead(): boolean {
    return this.#bodyRead;
  }

  /** Called once the whole body has arrived. */
  markBodyRead(): void {
    this.#bodyRead = true;
  }

  /** Aborts the signal, if a handler asked for it. */
  abort(reason: Error): void {
    this.#controller?.abort(reason);
  }

  /** Stops listening for the client going away (the invocation has ended). */
  done(): void {
    if (this.#onClose) this.#res.off('close', this.#onClose);
  }
}

const EMPTY_BODY = Buffer.alloc(0);

/**
 * Answers up to this size are sent together with their head in one write (9% less CPU per
 * single-row request than a writev of the head and a Buffer body, measured on node 20 with wrk).
 */
const ONE_WRITE_MAX_BYTES = 8 * 1024;

/** An answer from a worker thread arrives as a plain Uint8Array (its toString joins the byte values). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The serving app: a node:http request listener plus its state. It binds no port (see `listen.ts`). */
export interface SmkitApp {
  /** Handles one request: /ping and /invocations directly on node:http, everything else through express. */
  readonly listener: RequestListener;
  /** The express app serving /execution-parameters and any routes users add to it (unknown routes: 404). */
  readonly express: Express;
  /** The slot holding the model this app serves. */
  readonly slot: ModelSlot;
  state(): ModelState;
  /** Settles when loading has finished, successfully or not. */
  readonly loaded: Promise<void>;
  /** Number of /invocations in flight. */
  inFlight(): number;
  /**
   * Answers `req` as /invocations does (body limit, codecs, timeout, error bodies), with `slot`'s
   * model instead of the app's: how a multi-model endpoint invokes one of its models.
   */
  invoke(req: IncomingMessage, res: ServerResponse, slot: ModelSlot): Promise<void>;
  /**
   * Sends one request to the app without a port (tests, or calling a model in-process), answered as
   * a web `Response`. `input` is a path, a URL or a `Request`; `init` as for `fetch`.
   * @example const res = await app.request('/invocations', { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: '1,2' });
   */
  request(input: string | URL | globalThis.Request, init?: RequestInit): Promise<globalThis.Response>;
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

const INTERNAL_ERROR = 'internal error';

/**
 * The one way a failed request becomes a response: an HttpError keeps its status and message; anything
 * else is logged with the request id and becomes a 500 that names it. Every error body carries the id.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  log: Logger,
): { status: number; body: string; message: string } {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: errorBody(error.status, error.message, requestId),
      message: error.message,
    };
  }
  log.error({ requestId, err: error }, 'request failed');
  const message = `${INTERNAL_ERROR} on this request (request id ${requestId}); see the server log`;
  return { status: 500, body: errorBody(500, message, requestId), message };
}

/** 413 for a body over SAGEMAKER_MAX_PAYLOAD_IN_MB, saying what to do. */
function tooLarge(limit: number): PayloadTooLarge {
  const mb = limit / (1024 * 1024);
  return new PayloadTooLarge(
    `the body is larger than ${Number.isInteger(mb) ? mb : mb.toFixed(2)} MiB; ` +
      'send smaller requests or raise SAGEMAKER_MAX_PAYLOAD_IN_MB (0 = no limit)',
  );
}

/** Answers with a JSON body (unless an answer was already sent); `close` asks the client to reconnect. */
export function sendJson(res: ServerResponse, status: number, body: string, close = false): void {
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
  if (!options.slot && !options.handler && !options.loadHandler)
    throw new Error('createApp needs a handler, a loadHandler or a slot');
  const slot =
    options.slot ??
    createModelSlot({
      log,
      ...(options.handler ? { handler: options.handler } : {}),
      ...(options.loadHandler ? { load: options.loadHandler } : {}),
    });
  let inFlight = 0;
  const turn = createTurnstile();
  const turnMinBytes = options.turnMinBytes ?? TURN_MIN_BYTES;
  let closed = false;
  const timeoutMs = settings.timeoutSeconds * 1000;
  // Request ids: a random per-process prefix and a counter, unique across the cluster's processes.
  const idPrefix = randomUUID().slice(0, 8);
  let requests = 0;
  const nextRequestId = (): string => `${idPrefix}-${(++requests).toString(36)}`;
  // One sweep timer for all in-flight deadlines instead of a timer per request.
  const deadlines = new Set<Invocation>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const invocation of deadlines) {
        if (invocation.deadline() <= now) {
          deadlines.delete(invocation);
          expire(invocation);
        }
      }
    },
    Math.min(250, Math.max(10, timeoutMs / 10)),
  );
  sweep.unref();

  const loaded = slot.load();

  function ping(req: IncomingMessage, res: ServerResponse): void {
    const state = slot.state();
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
          : state === 'failed'
            ? `the model failed to load: ${slot.failure()}`
            : 'no model is loaded';
    sendJson(res, 503, req.method === 'HEAD' ? '' : errorBody(503, message));
  }

  function fail(res: ServerResponse, error: unknown, requestId: string, started: number): void {
    const { status, body, message } = errorResponse(error, requestId, log);
    if (status !== 500)
      log.info({ requestId, status, ms: Date.now() - started, reason: message }, 'invocation');
    sendJson(res, status, body, status === 413);
  }

  /** Answers an invocation that passed SAGEMAKER_MODEL_SERVER_TIMEOUT (called by the sweep timer). */
  function expire(invocation: Invocation): void {
    const { requestId } = invocation;
    const res = invocation.httpResponse();
    invocation.abort(new Error('timeout'));
    if (!invocation.bodyRead()) {
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
      res.once('finish', () => invocation.httpRequest().destroy());
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
  }

  async function invocations(
    req: IncomingMessage,
    res: ServerResponse,
    model: ModelSlot = slot,
  ): Promise<void> {
    const started = Date.now();
    const requestId = nextRequestId();
    if (closed || model.state() !== 'ready') {
      const failure = model.failure();
      sendJson(
        res,
        503,
        errorBody(
          503,
          failure ? `the model failed to load: ${failure}` : 'the model is not ready',
          requestId,
        ),
      );
      return;
    }
    inFlight++;
    const invocation = new Invocation(requestId, started + timeoutMs, req, res);
    deadlines.add(invocation);
    try {
      const body = await readBody(req, { limit: settings.maxPayloadBytes, tooLarge });
      invocation.markBodyRead();
      if (body.length >= turnMinBytes) await turn();
      const accept = req.headers.accept;
      invocation.body = body;
      invocation.contentType = contentTypeOf(req);
      invocation.accept = acceptsAnything(accept) ? settings.defaultAccept : accept;
      invocation.customAttributes = req.headers['x-amzn-sagemaker-custom-attributes'] as string | undefined;
      const answer: InvocationResponse = await model.invoke(invocation);
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
        // A small Buffer goes out as a latin1 string (one byte per character, so the same bytes): node
        // then sends the head and the body in one write instead of a writev of two chunks.
        if (typeof payload !== 'string' && payload.length <= ONE_WRITE_MAX_BYTES) {
          res.end(asBuffer(payload).toString('latin1'), 'latin1');
        } else {
          res.end(payload);
        }
        if (log.isLevelEnabled('debug')) {
          log.debug({ requestId, status: 200, ms: Date.now() - started }, 'invocation');
        }
      }
    } catch (error) {
      fail(res, error, requestId, started);
    } finally {
      deadlines.delete(invocation);
      invocation.done();
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
    } else if (!options.routes?.(req, res, path)) {
      // 404 and errors are answered here, after express, so routes users add to `express` at any time
      // come before them.
      expressRoutes()(req as Request, res as Response, (error?: unknown) => {
        if (error) {
          const { status, body } = errorResponse(error, nextRequestId(), log);
          sendJson(res, status, body);
          return;
        }
        sendJson(
          res,
          404,
          errorBody(404, `no route for ${req.method} ${path}; use GET /ping or POST /invocations`),
        );
      });
    }
  };

  return {
    listener,
    get express() {
      return expressRoutes();
    },
    slot,
    state: () => slot.state(),
    loaded,
    inFlight: () => inFlight,
    invoke: invocations,
    async request(input, init) {
      // Loaded on first use: serving processes that never call it do not pay for it.
      const { requestInMemory } = await import('./in-memory.js');
      return requestInMemory(listener, input, init);
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      await slot.close();
    },
  };
}
