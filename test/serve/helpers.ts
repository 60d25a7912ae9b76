import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { readServingSettings } from '../../src/contract/index.js';
import { createApp, type AppOptions, type SmkitApp } from '../../src/serve/app.js';
import { createLogger } from '../../src/util/log.js';

/** A running app on an ephemeral loopback port. */
export interface TestServer {
  readonly app: SmkitApp;
  readonly url: string;
  close(): Promise<void>;
}

/** Serving settings from an env map, as `smkit serve` reads them. */
export function settingsFrom(env: Record<string, string> = {}) {
  return readServingSettings({ SAGEMAKER_MODEL_SERVER_WORKERS: '1', ...env });
}

/** A logger that only prints fatal errors, so test output stays readable. */
export const quietLog = createLogger(50);

/** Starts `createApp(options)` on 127.0.0.1 with a random port. */
export async function startApp(options: Partial<AppOptions> & Pick<AppOptions, 'handler' | 'loadHandler'>) {
  const app = createApp({ settings: settingsFrom(), log: quietLog, ...options });
  const server = http.createServer(app.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
    },
  } satisfies TestServer;
}

/** The whole response as a client sees it. */
export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  json(): unknown;
}

/**
 * Sends one request with node:http (so headers such as `ContentType` go out exactly as spelled and
 * `chunked` bodies can be sent), and reads the whole answer.
 */
export function request(
  url: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string | readonly (Buffer | string)[];
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(options.body);
    const body =
      options.body === undefined || chunked ? undefined : Buffer.from(options.body as Buffer | string);
    const req = http.request(
      `${url}${options.path ?? '/invocations'}`,
      {
        method: options.method ?? 'POST',
        headers: {
          ...(body ? { 'Content-Length': String(body.length) } : {}),
          ...(chunked ? { 'Transfer-Encoding': 'chunked' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: all,
            text: all.toString('utf8'),
            json: () => JSON.parse(all.toString('utf8')),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (chunked) for (const part of options.body as (Buffer | string)[]) req.write(part);
    req.end(body);
  });
}

/** Centroids of a 3-cluster model in 4 dimensions, row-major (k x d). */
export const CENTROIDS = new Float32Array([0, 0, 0, 0, 10, 10, 10, 10, 1, 2, 3, 4]);

/** The bytes of a SageMaker k-means `model_algo-1` (`mx.nd.save('model_algo-1', [centroids])`). */
export function kmeansModelFile(centroids = CENTROIDS, k = 3): Buffer {
  return encodeNDArrayList({ arrays: [{ shape: [k, centroids.length / k], data: centroids }], names: [] });
}
