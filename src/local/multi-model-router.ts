/**
 * `smkit local serve --multi-model DIR`: what SageMaker does in front of a multi-model container. An
 * invocation with `X-Amzn-SageMaker-Target-Model: a.tar.gz` is resolved to `DIR/a.tar.gz`, extracted
 * (safely, once) to `<base>/models/<id>/model`, loaded with POST /models on first use, then sent to
 * POST /models/<id>/invoke. The container unloads idle models under its own budget; when it answers
 * 507 (full of busy models) the router unloads the least recently used model it loaded and retries once.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_BASE_DIR, resolvePaths } from '../contract/index.js';
import { readBody } from '../io/http-body.js';
import { send } from '../io/http-client.js';
import { prepareModelDir } from './archives.js';

/** Options of `createMultiModelRouter`. */
export interface MultiModelRouterOptions {
  /** The folder of model archives (`--multi-model DIR`). */
  readonly modelsDir: string;
  /** `<base>/models` of the model server: where the archives are extracted. */
  readonly extractRoot: string;
  /** The model server. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** Most bytes one archive may unpack to (`SMKIT_MAX_EXTRACT_BYTES`); default: the free space. */
  readonly maxExtractBytes?: number | undefined;
  readonly onLog?: (line: string) => void;
}

const TARGET = 'x-amzn-sagemaker-target-model';
const BODY_LIMIT = 1024 * 1024 * 1024;

function answer(
  res: http.ServerResponse,
  status: number,
  body: Buffer | string,
  contentType = 'application/json',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const reason = (status: number, message: string) => JSON.stringify({ error: status, message });

/**
 * The archive a TargetModel names, under `modelsDir`; undefined for absolute paths, `..` or anything
 * else that would leave it (TargetModel is a key under the model's S3 prefix).
 */
export function resolveTargetModel(modelsDir: string, target: string): string | undefined {
  if (target === '' || path.isAbsolute(target) || target.split(/[\\/]/).includes('..')) return undefined;
  const root = path.resolve(modelsDir);
  const file = path.resolve(root, target);
  return file.startsWith(root + path.sep) ? file : undefined;
}

/** The opaque model_name the platform gives a TargetModel (a hash, as SageMaker's ids are). */
export const modelIdFor = (target: string): string =>
  createHash('sha256').update(target).digest('hex').slice(0, 32);

/** Creates the router (not listening). */
export function createMultiModelRouter(options: MultiModelRouterOptions): http.Server {
  const { host, port } = options.upstream;
  const base = `http://${host}:${port}`;
  const extracted = new Map<string, Promise<string>>();
  /** Models this router loaded, least recently used first. */
  const loaded = new Map<string, true>();

  /**
   * Extracts the archive once; resolves to the url the load names: `/opt/ml/models/<id>/model`, as the
   * platform sends it. A container sees the extract root mounted there; `smkit serve` reads that path
   * under its SAGEMAKER_BASE_DIR (the extract root is `<base>/models`).
   */
  function extract(target: string, archive: string): Promise<string> {
    const id = modelIdFor(target);
    let dir = extracted.get(id);
    if (!dir) {
      const modelDir = path.join(options.extractRoot, id, 'model');
      const url = path.posix.join(resolvePaths(DEFAULT_BASE_DIR).models, id, 'model');
      dir = prepareModelDir(archive, modelDir, { maxExtractBytes: options.maxExtractBytes }).then(() => url);
      dir.catch(() => extracted.delete(id));
      extracted.set(id, dir);
    }
    return dir;
  }

  async function ensureLoaded(
    id: string,
    url: string,
    target: string,
  ): Promise<{ status: number; body: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      const reply = await send(`${base}/models`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TARGET]: target },
        body: Buffer.from(JSON.stringify({ model_name: id, url })),
      });
      if (reply.status !== 507 || attempt > 0) return reply;
      const victim = [...loaded.keys()].find((name) => name !== id);
      if (!victim) return reply;
      loaded.delete(victim);
      options.onLog?.(`router: the container is full (507); unloading ${victim}`);
      await send(`${base}/models/${victim}`, { method: 'DELETE' });
    }
  }

  async function invoke(req: http.IncomingMessage, res: http.ServerResponse, target: string): Promise<void> {
    const archive = resolveTargetModel(options.modelsDir, target);
    if (!archive)
      return answer(res, 400, reason(400, `TargetModel ${target} is not a path under ${options.modelsDir}`));
    const body = await readBody(req, { limit: BODY_LIMIT });
    let url: string;
    try {
      url = await extract(target, archive);
    } catch (error) {
      return answer(res, 400, reason(400, `TargetModel ${target}: ${(error as Error).message}`));
    }
    const id = modelIdFor(target);
    const call = () =>
      send(`${base}/models/${id}/invoke`, {
        method: 'POST',
        body,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([name]) =>
            /^(content-type|accept|x-amzn-sagemaker-)/i.test(name),
          ),
        ) as Record<string, string>,
      });
    let reply = await call();
    if (reply.status === 404) {
      const load = await ensureLoaded(id, url, target);
      if (load.status !== 200 && load.status !== 409) return answer(res, load.status, load.body);
      options.onLog?.(`router: loaded ${target} as ${id}`);
      reply = await call();
    }
    loaded.delete(id);
    loaded.set(id, true);
    answer(res, reply.status, reply.body, reply.contentType ?? 'application/octet-stream');
  }

  return http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0];
    const target = req.headers[TARGET];
    const done = (error: unknown) => {
      if (!res.headersSent) answer(res, 502, reason(502, `multi-model router: ${(error as Error).message}`));
    };
    if (req.method === 'POST' && route === '/invocations') {
      if (typeof target !== 'string') {
        req.resume();
        answer(
          res,
          400,
          reason(
            400,
            'this is a multi-model endpoint: name the model with TargetModel (smkit local invoke --target-model a.tar.gz)',
          ),
        );
        return;
      }
      invoke(req, res, target).catch(done);
      return;
    }
    // Everything else (/ping, /models...) goes to the container as it is.
    readBody(req, { limit: BODY_LIMIT })
      .then((body) =>
        send(`${base}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          ...(body.length > 0 ? { body } : {}),
          headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        }),
      )
      .then((reply) => answer(res, reply.status, reply.body, reply.contentType ?? 'application/json'))
      .catch(done);
  });
}
