import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENV, type Env, readMaxExtractBytes, resolvePaths } from '../contract/index.js';
import { send } from '../io/http-client.js';
import { InputError, SmkitError } from '../util/errors.js';
import { prepareModelDir, removeTree } from './archives.js';
import { isMissingCommand, missingCommandMessage } from './docker.js';
import { readOnlyMountPrefix } from './namespace.js';
import { freePort } from '../util/net.js';
import { type EndpointLimits, SAGEMAKER_LIMITS } from '../contract/limits.js';
import { createLimitProxy, type LimitViolation } from './limit-proxy.js';

/** Options of `smkit local serve`. */
export interface LocalEndpointOptions {
  /** model.tar.gz or a model directory (or `multiModel`). */
  readonly model?: string;
  /**
   * A multi-model endpoint over this folder of model archives: the server runs with
   * SAGEMAKER_MULTI_MODEL=true behind a router that loads `TargetModel` on first use
   * (`multi-model-router.ts`).
   */
  readonly multiModel?: string;
  /** The port clients use (the limit proxy listens there). */
  readonly port: number;
  /** Run the image with `docker run --network host IMAGE serve` instead of `smkit serve`. */
  readonly image?: string;
  /** How to run smkit itself (`node bin/smkit`), for `serve` without Docker. */
  readonly smkitCommand: readonly string[];
  /** The environment given to the model server (merged over `parentEnv` for subprocesses). */
  readonly env?: Readonly<Record<string, string>>;
  readonly parentEnv?: Env;
  readonly limits?: Partial<EndpointLimits>;
  /** How often to ping while waiting for the container (SageMaker and the SDK: every few seconds). */
  readonly pollMs?: number;
  readonly onLog?: (line: string) => void;
  readonly onViolation?: (violation: LimitViolation) => void;
}

/** A running local endpoint. */
export interface LocalEndpoint {
  readonly url: string;
  /**
   * The model server itself (the multi-model router when there is one), behind the limit proxy: for a
   * client that keeps within the limits on its own, such as a local batch transform (its batches never
   * pass MaxPayloadInMB and it times its own requests), so large bodies do not pass through the proxy.
   */
  readonly serverUrl: string;
  /** Resolves when the container answered /ping with 200 (InService); rejects with the reason it never did. */
  readonly ready: Promise<void>;
  /** Stops the model server (SIGTERM, SIGKILL after 30 s as on scale-in) and the proxy. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

async function listen(server: http.Server, port: number): Promise<void> {
  server.listen(port, LOOPBACK);
  try {
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new InputError(
        `port ${port} is in use: stop what listens there, or pass --port with a free port`,
      );
    }
    throw error;
  }
}

/** The status of GET /ping, or 0 when the server does not answer within `timeoutMs`. */
function ping(port: number, timeoutMs: number): Promise<number> {
  return send(`http://${LOOPBACK}:${port}/ping`, { timeoutMs }).then(
    (answer) => answer.status,
    () => 0,
  );
}

function startServer(
  options: LocalEndpointOptions,
  base: string,
  innerPort: number,
  prefix: readonly string[] = [],
): ChildProcess {
  const env = {
    ...options.env,
    [ENV.bindToPort]: String(innerPort),
    ...(options.multiModel ? { [ENV.multiModel]: 'true' } : {}),
  };
  if (options.image) {
    const mount = options.multiModel
      ? `${resolvePaths(base).models}:/opt/ml/models:ro`
      : `${resolvePaths(base).model}:/opt/ml/model:ro`;
    const args = ['run', '--rm', '--network', 'host', '-v', mount];
    for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
    args.push(options.image, 'serve');
    return spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const [file, ...args] = [...prefix, ...options.smkitCommand];
  return spawn(file!, [...args, 'serve'], {
    env: { ...options.parentEnv, ...env, [ENV.baseDir]: base },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function startRouter(
  modelsDir: string,
  extractRoot: string,
  innerPort: number,
  routerPort: number,
  options: LocalEndpointOptions,
): Promise<http.Server> {
  const info = await stat(modelsDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(`--multi-model ${modelsDir} is not a directory of model archives`);
  }
  await mkdir(extractRoot, { recursive: true });
  const { createMultiModelRouter } = await import('./multi-model-router.js');
  const router = createMultiModelRouter({
    modelsDir,
    extractRoot,
    upstream: { host: LOOPBACK, port: innerPort },
    maxExtractBytes: readMaxExtractBytes({ ...options.parentEnv, ...options.env }),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  await listen(router, routerPort);
  return router;
}

/**
 * Starts a local endpoint as SageMaker would: the model unpacked (safely) into a read-only model dir, the
 * model server (`smkit serve` or the image) on an inner port, and a front proxy on `port` that enforces
 * SageMaker's limits. `ready` rejects if the server exits or does not pass /ping within the startup window.
 */
export async function startLocalEndpoint(options: LocalEndpointOptions): Promise<LocalEndpoint> {
  const limits = { ...SAGEMAKER_LIMITS, ...options.limits };
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-endpoint-'));
  let inService = false;
  const innerPort = await freePort(LOOPBACK);
  const routerPort = options.multiModel ? await freePort(LOOPBACK) : innerPort;
  const proxy = createLimitProxy(
    { host: LOOPBACK, port: routerPort, inService: () => inService, onViolation: options.onViolation },
    limits,
  );
  let router: http.Server | undefined;
  const cleanup = async () => {
    router?.closeAllConnections();
    router?.close();
    proxy.closeAllConnections();
    if (proxy.listening) proxy.close();
    await removeTree(work).catch(() => undefined);
  };
  let child: ChildProcess;
  try {
    await listen(proxy, options.port);
    const base = path.join(work, 'ml');
    await mkdir(base);
    const modelDir = resolvePaths(base).model;
    if (options.multiModel) {
      router = await startRouter(
        options.multiModel,
        resolvePaths(base).models,
        innerPort,
        routerPort,
        options,
      );
    } else if (options.model) {
      await prepareModelDir(options.model, modelDir, {
        maxExtractBytes: readMaxExtractBytes({ ...options.parentEnv, ...options.env }),
      });
    } else {
      throw new InputError('smkit local serve needs --model or --multi-model');
    }
    await mkdir(modelDir, { recursive: true });
    const prefix = options.image ? undefined : await readOnlyMountPrefix(modelDir, process.getuid?.());
    if (!options.image && !prefix && process.getuid?.() === 0) {
      options.onLog?.(
        'smkit: running as root without a private mount namespace: the model dir is read-only by permissions only',
      );
    }
    child = startServer(options, base, innerPort, prefix);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onLog?.(line);
    });
  }
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
  let exitCode: number | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const ready = (async () => {
    const started = Date.now();
    while (Date.now() - started < limits.startupMs) {
      if (exitCode !== undefined) {
        if (options.image && isMissingCommand(exitCode, tail.join('\n'))) {
          throw new SmkitError(missingCommandMessage(options.image, 'serve'));
        }
        throw new SmkitError(
          `the model server exited with code ${exitCode} before it answered /ping: ${tail.at(-1) ?? 'no output'}`,
        );
      }
      if ((await ping(innerPort, limits.pingTimeoutMs)) === 200) {
        inService = true;
        return;
      }
      await sleep(options.pollMs ?? 500);
    }
    throw new SmkitError(
      `the container did not answer /ping with 200 within SageMaker's startup window (${limits.startupMs / 1000} s): CreateEndpoint would fail; load the model faster or raise ContainerStartupHealthCheckTimeoutInSeconds`,
    );
  })();
  ready.catch(() => undefined);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    })();
    return closing;
  };
  const address = proxy.address() as net.AddressInfo;
  return {
    url: `http://${LOOPBACK}:${address.port}`,
    serverUrl: `http://${LOOPBACK}:${routerPort}`,
    ready,
    close,
  };
}
