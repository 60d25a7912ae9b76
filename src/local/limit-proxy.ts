import http from 'node:http';
import { type EndpointLimits, SAGEMAKER_LIMITS } from '../contract/limits.js';
import { readBody } from '../io/http-body.js';

/** The name of the limit a request broke, also sent as the `X-Smkit-Limit` header. */
export type LimitName = 'ping-timeout' | 'invocation-timeout' | 'body-size' | 'not-in-service';

/** A limit a request broke, for the log. */
export interface LimitViolation {
  readonly limit: LimitName;
  readonly path: string;
  readonly message: string;
}

/** Headers SageMaker passes to the container; it strips every other request header. */
const FORWARDED = /^(content-type|accept|x-amzn-sagemaker-[a-z-]+)$/;

/** What the proxy needs to know about the model server behind it. */
export interface ProxyTarget {
  readonly port: number;
  readonly host: string;
  /** False until the container passed /ping (the endpoint is InService). */
  inService(): boolean;
  onViolation?(violation: LimitViolation): void;
}

function refuse(
  res: http.ServerResponse,
  status: number,
  violation: LimitViolation,
  target: ProxyTarget,
): void {
  target.onViolation?.(violation);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: violation.message, limit: violation.limit });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-smkit-limit': violation.limit,
    connection: 'close',
  });
  res.end(body);
}

function forwardedHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (FORWARDED.test(name) && value !== undefined) headers[name] = value;
  }
  return headers;
}

/** The body, or undefined (the rest drained) when it is over `max` bytes. */
function readLimited(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return readBody(req, { limit: max }).catch(() => {
    req.resume();
    return undefined;
  });
}

/** Reads and drops a body (answered without it). */
function discard(req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.once('end', resolve).once('error', resolve).once('close', resolve).resume();
  });
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 2 : 0)} MiB`;
}

/**
 * The front door of `smkit local serve`: forwards /ping, /invocations, /execution-parameters and /models
 * to the model server as SageMaker would, and refuses what SageMaker would refuse, saying which limit
 * broke: 2 s per /ping, 60 s per invocation, 6 MiB bodies, no invocations before the endpoint is InService.
 */
export function createLimitProxy(
  target: ProxyTarget,
  limits: EndpointLimits = SAGEMAKER_LIMITS,
): http.Server {
  return http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const route = url.split('?')[0]!;
    const isPing = req.method === 'GET' && route === '/ping';
    const isInvoke =
      req.method === 'POST' && (route === '/invocations' || /^\/models\/[^/]+\/invoke$/.test(route));
    const known =
      isPing ||
      isInvoke ||
      route === '/execution-parameters' ||
      route === '/models' ||
      route.startsWith('/models/');
    if (!known) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `${req.method} ${route} is not a SageMaker container route` }));
      return;
    }
    if (isInvoke && !target.inService()) {
      await discard(req);
      refuse(
        res,
        503,
        {
          limit: 'not-in-service',
          path: route,
          message: 'the endpoint is not InService yet: the container has not answered /ping with 200',
        },
        target,
      );
      return;
    }
    // A body of declared length within the limit streams through (batch transform sends 6-100 MB
    // bodies: holding each one here would cost a copy per request); chunked ones are counted first.
    const declared = req.headers['content-length'];
    const streams =
      declared !== undefined &&
      req.headers['transfer-encoding'] === undefined &&
      Number(declared) <= limits.maxBodyBytes;
    const body = streams ? undefined : await readLimited(req, limits.maxBodyBytes);
    if (!streams && body === undefined) {
      refuse(
        res,
        413,
        {
          limit: 'body-size',
          path: route,
          message: `request body is over SageMaker's ${mib(limits.maxBodyBytes)} limit for real-time endpoints (${limits.maxBodyBytes} bytes): send smaller batches, or use batch transform or asynchronous inference`,
        },
        target,
      );
      return;
    }
    const timeout = isPing ? limits.pingTimeoutMs : limits.invocationTimeoutMs;
    const upstream = http.request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: url,
      headers: { ...forwardedHeaders(req), 'content-length': body ? body.length : Number(declared) },
    });
    const timer = setTimeout(() => {
      upstream.destroy();
      refuse(
        res,
        isPing ? 504 : 504,
        isPing
          ? {
              limit: 'ping-timeout',
              path: route,
              message: `/ping took longer than SageMaker's ${timeout / 1000} s limit: the instance would be marked unhealthy; answer /ping without waiting on the model`,
            }
          : {
              limit: 'invocation-timeout',
              path: route,
              message: `the container did not answer within SageMaker's ${timeout / 1000} s invocation limit: InvokeEndpoint would fail with ModelError; make inference faster or use asynchronous inference`,
            },
        target,
      );
    }, timeout);
    upstream.on('response', (answer) => {
      clearTimeout(timer);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      clearTimeout(timer);
      if (res.headersSent || res.writableEnded) return;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `the model server did not answer: ${error.message}` }));
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  });
}
