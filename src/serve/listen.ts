import cluster from 'node:cluster';
import http, { type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { errorBody, type SmkitApp } from './app.js';

/** SageMaker sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before that. */
export const DRAIN_MS = 25_000;

/** A bound server. */
export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to `drainMs`), then frees the model. */
  stop(): Promise<void>;
}

/** Options of `listen`. */
export interface ListenOptions {
  readonly port: number;
  /** Interface to bind; all interfaces when absent (what SageMaker needs). */
  readonly host?: string;
  readonly drainMs?: number;
}

/** What node's HTTP parser rejected, as a status and a message for the JSON error body. */
function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; message: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, message: `the request headers are larger than ${http.maxHeaderSize} bytes` };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, message: 'the request headers did not arrive in time' };
  }
  return { status: 400, message: `the request is not valid HTTP/1.1 (${error.code ?? error.message})` };
}

/**
 * Answers what node's HTTP parser refuses (bad Content-Length, broken chunked framing, oversize headers)
 * with the same JSON error body as every other failure, instead of node's bare `400` without a body.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, message } = clientErrorAnswer(error);
  const body = errorBody(status, message);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A refused bind as a one-line message: a busy port is the usual mistake when running locally. */
function bindError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new InputError(
      `port ${port} is already in use: stop the process that listens on it, or serve on another port ` +
        '(SAGEMAKER_BIND_TO_PORT)',
    );
  }
  if (error.code === 'EACCES') {
    return new InputError(`no permission to listen on port ${port}: use a port above 1023 or run as root`);
  }
  return error;
}

/** Binds the app to a port: the only place smkit opens a listening socket. */
export async function listen(app: SmkitApp, options: ListenOptions): Promise<RunningServer> {
  // No Host header is no reason to refuse an invocation (node would answer a bare 400 without a body).
  const server = http.createServer({ keepAliveTimeout: 65_000, requireHostHeader: false }, app.listener);
  // SageMaker's front end keeps connections open; headers must arrive within the request timeout.
  server.headersTimeout = 66_000;
  server.on('clientError', answerClientError);
  // Responses whose bytes have not all been handed to the kernel yet: a drain waits for them, since
  // a response the app has ended may still sit in the socket's buffer behind a slow reader.
  const unsent = new Set<ServerResponse>();
  // 'close' follows 'finish' (or a dropped connection): one listener, shared by every response.
  function sent(this: ServerResponse): void {
    unsent.delete(this);
  }
  server.on('request', (_req, res: ServerResponse) => {
    unsent.add(res);
    res.once('close', sent);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(bindError(error, options.port));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    server,
    port,
    stop() {
      stopping ??= (async () => {
        // node's server.close() and closeIdleConnections() destroy every socket whose response has been
        // ended, even when most of its bytes still wait in the socket's buffer for a slow reader (a 4 MB
        // answer arrived as 3.9 MB). So: stop accepting with the plain net.Server close, and close idle
        // keep-alive connections only once every started response has been handed to the kernel.
        const closed = new Promise<void>((resolve) =>
          net.Server.prototype.close.call(server, () => resolve()),
        );
        const closeIdle = (): void => {
          if (unsent.size === 0) server.closeIdleConnections();
        };
        closeIdle();
        const deadline = Date.now() + (options.drainMs ?? DRAIN_MS);
        while ((app.inFlight() > 0 || unsent.size > 0) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          closeIdle();
        }
        server.closeAllConnections();
        await closed;
        await app.close();
      })();
      return stopping;
    },
  };
}

/** Options of `runServer`. */
export interface RunServerOptions {
  readonly port: number;
  readonly host?: string;
  /** Processes to serve with; more than 1 forks node:cluster workers that share the port. */
  readonly workers: number;
  readonly log: Logger;
  /** Creates the app in each serving process (each loads its own model copy); never called in a primary. */
  createApp(): SmkitApp | Promise<SmkitApp>;
}

/**
 * Serves until SIGTERM/SIGINT, then drains and exits 0. With `workers` > 1 the primary process forks
 * that many node:cluster workers (which re-run the same command), restarts crashed ones (not the first,
 * when it exits before listening: a busy port or a crash while loading would repeat) and forwards
 * SIGTERM to all of them.
 */
export async function runServer(options: RunServerOptions): Promise<void> {
  const { log } = options;
  if (options.workers > 1 && cluster.isPrimary) {
    runPrimary(options);
    return;
  }
  const app = await options.createApp();
  // A node:cluster worker takes connections from the moment it listens, so it listens once its model is
  // loaded (or failed: /ping then says why): /ping turns 200 with the first ready worker and never flaps
  // to 503 on a sibling still loading. A single process listens at once and answers 503 while loading.
  if (cluster.isWorker) await app.loaded;
  const running = await listen(app, { port: options.port, ...(options.host ? { host: options.host } : {}) });
  log.info({ port: running.port, pid: process.pid }, 'listening');
  const onSignal = (signal: string): void => {
    log.info({ signal, inFlight: app.inFlight() }, 'stopping: draining in-flight requests');
    void running.stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function runPrimary(options: RunServerOptions): void {
  const { log } = options;
  let stopping = false;
  let restarts = 0;
  // One worker first: it has every core to itself while it loads, so /ping turns 200 sooner (a worker
  // listens once loaded). The others start when one is listening; until then one process serves.
  let forked = 1;
  let listened = false;
  cluster.fork();
  cluster.on('listening', () => {
    listened = true;
    if (stopping) return;
    for (; forked < options.workers; forked++) cluster.fork();
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!listened) {
      // The first worker could not start (a busy port, a crash while loading): another would fail the
      // same way, so stop with its code instead of restarting it 10 times per worker.
      log.fatal(
        { pid: worker.process.pid, code, signal },
        'the first serving worker exited before listening',
      );
      process.exit(code || 1);
    }
    log.error({ pid: worker.process.pid, code, signal }, 'serving worker exited; starting another');
    if (++restarts > 10 * options.workers) {
      log.fatal('serving workers keep crashing; giving up');
      process.exit(1);
    }
    cluster.fork();
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping = true;
    log.info({ signal }, 'stopping: draining the serving workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), DRAIN_MS + 3_000).unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
