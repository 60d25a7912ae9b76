/**
 * The multi-model container API as SageMaker calls it (contract section 2.4): POST /models,
 * GET /models[?next_page_token=], GET /models/NAME, DELETE /models/NAME, POST /models/NAME/invoke.
 * Every error is a JSON body with the reason; the rules for concurrent requests are in `registry.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../../io/http-body.js';
import { HttpError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { errorResponse, sendJson, type SmkitApp } from '../app.js';
import type { ModelRegistry } from './registry.js';

/** Models per GET /models page unless `max_results` says otherwise (at most `MAX_PAGE_SIZE`). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** A load request is a small JSON object. */
const LOAD_BODY_LIMIT = 64 * 1024;
const TARGET_MODEL_HEADER = 'x-amzn-sagemaker-target-model';

/** A page token names the last model of the previous page (base64url), so pages survive loads and deletes. */
function encodeToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token))
    throw new HttpError(400, `next_page_token '${token}' is not a token this server gave`);
  return Buffer.from(token, 'base64url').toString('utf8');
}

function pageSize(text: string | null): number {
  if (text === null) return DEFAULT_PAGE_SIZE;
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new HttpError(400, `max_results must be an integer from 1 to ${MAX_PAGE_SIZE} (got '${text}')`);
  }
  return size;
}

async function readLoadRequest(req: IncomingMessage): Promise<{ name: string; url: string }> {
  const body = await readBody(req, { limit: LOAD_BODY_LIMIT });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(
      400,
      'the body must be JSON: {"model_name": "...", "url": "/opt/ml/models/.../model"}',
    );
  }
  const { model_name: name, url } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || name === '' || typeof url !== 'string' || url === '') {
    throw new HttpError(400, 'the body needs "model_name" and "url", both non-empty strings');
  }
  return { name, url };
}

function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `'${segment}' is not a URL-encoded model name`);
  }
}

/** Options of `multiModelRoutes`. */
export interface MultiModelRoutesOptions {
  readonly registry: ModelRegistry;
  readonly log: Logger;
  /** The app whose invocation route answers POST /models/NAME/invoke (given once it exists). */
  readonly app: () => SmkitApp;
}

/**
 * The `routes` of `createApp` for a multi-model endpoint: answers everything under /models and
 * passes the rest on.
 */
export function multiModelRoutes(options: MultiModelRoutesOptions) {
  const { registry, log } = options;
  let failures = 0;

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const parts = path.split('/').slice(2); // '', 'models', ...
    const name = parts[0] === undefined ? undefined : decodeName(parts[0]);
    const method = req.method ?? 'GET';
    const targetModel = req.headers[TARGET_MODEL_HEADER] as string | undefined;
    if (name === undefined || (name === '' && parts.length === 1)) {
      if (method === 'POST') {
        const { name: model, url } = await readLoadRequest(req);
        log.info({ model, url, targetModel }, 'load model');
        await registry.load(model, url, targetModel);
        sendJson(res, 200, JSON.stringify({ status: `model ${model} loaded` }));
      } else if (method === 'GET') {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const size = pageSize(query.get('max_results'));
        const token = query.get('next_page_token');
        const after = token ? decodeToken(token) : undefined;
        const all = registry.list();
        const start = after === undefined ? 0 : all.findIndex((m) => m.modelName > after);
        const page = start < 0 ? [] : all.slice(start, start + size);
        const more = start >= 0 && start + size < all.length;
        sendJson(
          res,
          200,
          JSON.stringify({
            models: page,
            ...(more ? { nextPageToken: encodeToken(page.at(-1)!.modelName) } : {}),
          }),
        );
      } else {
        throw new HttpError(405, `use GET or POST /models (got ${method})`);
      }
      return;
    }
    if (parts.length === 1) {
      if (method === 'GET') {
        const model = registry.describe(name);
        if (!model) throw new HttpError(404, `model ${name} is not loaded`);
        sendJson(res, 200, JSON.stringify(model));
      } else if (method === 'DELETE') {
        log.info({ model: name, targetModel }, 'unload model');
        if (!(await registry.unload(name))) throw new HttpError(404, `model ${name} is not loaded`);
        sendJson(res, 200, JSON.stringify({ status: `model ${name} unloaded` }));
      } else {
        throw new HttpError(405, `use GET or DELETE /models/${parts[0]} (got ${method})`);
      }
      return;
    }
    if (parts.length === 2 && parts[1] === 'invoke') {
      if (method !== 'POST') throw new HttpError(405, `use POST /models/${parts[0]}/invoke (got ${method})`);
      if (!(await registry.ready(name))) throw new HttpError(404, `model ${name} is not loaded`);
      if (log.isLevelEnabled('debug')) log.debug({ model: name, targetModel }, 'invoke model');
      await options.app().invoke(req, res, registry.slot(name));
      return;
    }
    throw new HttpError(404, `no route for ${method} ${path}`);
  }

  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (path !== '/models' && !path.startsWith('/models/')) return false;
    handle(req, res, path).catch((error: unknown) => {
      const { status, body } = errorResponse(error, `models-${(++failures).toString(36)}`, log);
      // Unread bodies (a refused load) would stall a kept-alive connection: ask for a new one.
      sendJson(res, status, body, !req.readableEnded);
    });
    return true;
  };
}
