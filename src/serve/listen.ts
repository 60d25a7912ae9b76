import cluster from 'node:cluster';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/log.js';
import type { SmkitApp } from './app.js';

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

/** Binds the app to a port: the only place smkit opens a listening socket. */
export async function listen(app: SmkitApp, options: ListenOptions): Promise<RunningServer> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, app.listener);
  // SageMaker's front end keeps connections open; headers must arrive within the request timeout.
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
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
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = Date.now() + (options.drainMs ?? DRAIN_MS);
        while (app.inFlight() > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          server.closeIdleConnections();
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
 * that many node:cluster workers (which re-run the same command), restarts crashed ones and forwards
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
  cluster.fork();
  cluster.on('listening', () => {
    if (stopping) return;
    for (; forked < options.workers; forked++) cluster.fork();
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
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
