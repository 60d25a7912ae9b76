import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ModelHandler } from '../../../src/serve/handler.js';
import { defaultModelKinds } from '../../../src/serve/kinds/index.js';
import { exists, type ModelKind } from '../../../src/serve/kinds/kind.js';
import { loadServingModel } from '../../../src/serve/server.js';
import { createMultiModelApp, type MultiModelApp } from '../../../src/serve/multi-model/endpoint.js';
import { MODEL_OVERHEAD_BYTES } from '../../../src/serve/multi-model/estimate.js';
import { quietLog, type Reply, request, settingsFrom } from '../helpers.js';
import { heavyOnnx, kmeansFiles, linearOnnx, writeModel } from './fixtures.js';

const K_JSON = '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 17.124544143676758}]}';
const ROW = '1.5,16.0,14.0,23.0';

/** A model kind whose invocations wait until the test releases them (marker `slow.txt`). */
let releaseSlow: () => void = () => undefined;
let slowGate = Promise.resolve();
let slowStarted = 0;
function holdSlowInvocations(): void {
  slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
}
const slowKind: ModelKind = {
  name: 'slow',
  marker: 'slow.txt',
  detect: (dir) => exists(path.join(dir, 'slow.txt')),
  load: async (): Promise<ModelHandler> => ({
    kind: 'slow',
    async invoke() {
      slowStarted++;
      await slowGate;
      return { body: '"done"', contentType: 'application/json' };
    },
  }),
};
/** A model kind whose loads wait until the test releases them (marker `slow-load.txt`). */
let releaseLoads: () => void = () => undefined;
let loadGate = Promise.resolve();
let loadsStarted = 0;
function holdLoads(): void {
  loadsStarted = 0;
  loadGate = new Promise<void>((resolve) => (releaseLoads = resolve));
}
const slowLoadKind: ModelKind = {
  name: 'slow-load',
  marker: 'slow-load.txt',
  detect: (dir) => exists(path.join(dir, 'slow-load.txt')),
  async load(): Promise<ModelHandler> {
    loadsStarted++;
    await loadGate;
    return { kind: 'slow-load', invoke: async () => ({ body: '"loaded"', contentType: 'application/json' }) };
  },
};
const kinds = [slowKind, slowLoadKind, ...defaultModelKinds];
const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
};

let base: string;
let models: string;
const urls: Record<string, string> = {};

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'smkit-mme-'));
  models = path.join(base, 'models');
  for (let i = 0; i < 8; i++) urls[`km${i}`] = await writeModel(models, `km${i}`, kmeansFiles());
  urls['onnx'] = await writeModel(models, 'onnx', { 'model.onnx': linearOnnx() });
  urls['slow1'] = await writeModel(models, 'slow1', { 'slow.txt': '' });
  urls['slow2'] = await writeModel(models, 'slow2', { 'slow.txt': '' });
  urls['lazy'] = await writeModel(models, 'lazy', { 'slow-load.txt': '' });
  urls['heavy'] = await writeModel(models, 'heavy', { 'model.onnx': heavyOnnx() });
  urls['empty'] = await writeModel(models, 'empty', {});
  urls['corrupt'] = await writeModel(models, 'corrupt', { 'model.onnx': 'not a protobuf at all' });
  urls['big'] = await writeModel(models, 'big', { 'model.onnx': Buffer.alloc(1024 * 1024) });
  const outside = await writeModel(base, 'outside', kmeansFiles());
  await symlink(outside, path.join(models, 'link'));
  urls['link'] = path.join(models, 'link');
});
afterAll(() => rm(base, { recursive: true, force: true }));

interface Endpoint extends MultiModelApp {
  readonly url: string;
  close(): Promise<void>;
}
let endpoint: Endpoint | undefined;
afterEach(async () => {
  releaseSlow();
  releaseLoads();
  await endpoint?.close();
  endpoint = undefined;
});

/** Budget for `n` k-means models (each is charged the overhead plus 3x its ~70-byte file). */
const kmeansBudget = (n: number): number => n * (MODEL_OVERHEAD_BYTES + 1024);

async function start(budgetBytes = 64 * 1024 * 1024): Promise<Endpoint> {
  const settings = settingsFrom({ SAGEMAKER_BASE_DIR: base, SAGEMAKER_MULTI_MODEL: 'true' });
  const mme = await createMultiModelApp({
    settings,
    log: quietLog,
    budgetBytes,
    load: (dir) => loadServingModel(dir, { settings, log: quietLog, kinds, pool: false }),
  });
  const server = http.createServer(mme.app.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = {
    ...mme,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await mme.app.close();
    },
  };
  return endpoint;
}

const load = (e: Endpoint, name: string, url = urls[name]!): Promise<Reply> =>
  request(e.url, {
    path: '/models',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model_name: name, url }),
  });
const invoke = (
  e: Endpoint,
  name: string,
  body = ROW,
  headers: Record<string, string> = {},
): Promise<Reply> =>
  request(e.url, {
    path: `/models/${encodeURIComponent(name)}/invoke`,
    headers: { 'Content-Type': 'text/csv', ...headers },
    body,
  });
const get = (e: Endpoint, p: string): Promise<Reply> => request(e.url, { method: 'GET', path: p });
const del = (e: Endpoint, name: string): Promise<Reply> =>
  request(e.url, { method: 'DELETE', path: `/models/${encodeURIComponent(name)}` });

describe('multi-model endpoint: the container API', () => {
  test('/ping is 200 with no models; /models is empty; /invocations says where to go', async () => {
    const e = await start();
    expect((await get(e, '/ping')).status).toBe(200);
    const list = await get(e, '/models');
    expect([list.status, list.json()]).toEqual([200, { models: [] }]);
    const direct = await request(e.url, { headers: { 'Content-Type': 'text/csv' }, body: ROW });
    expect(direct.status).toBe(404);
    expect((direct.json() as { message: string }).message).toMatch(/POST \/models\/NAME\/invoke/);
  });

  test('load, 409 on a second load, get, invoke, delete, then 404 everywhere', async () => {
    const e = await start();
    const loaded = await load(e, 'km0');
    expect([loaded.status, loaded.json()]).toEqual([200, { status: 'model km0 loaded' }]);
    const again = await load(e, 'km0');
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ message: 'model km0 is already loaded' });
    expect((await get(e, '/models/km0')).json()).toEqual({ modelName: 'km0', modelUrl: urls['km0'] });
    expect((await get(e, '/models')).json()).toEqual({
      models: [{ modelName: 'km0', modelUrl: urls['km0'] }],
    });
    const answer = await invoke(e, 'km0', ROW, { 'X-Amzn-SageMaker-Target-Model': 'customer-0.tar.gz' });
    expect([answer.status, answer.headers['content-type'], answer.text]).toEqual([
      200,
      'application/json',
      K_JSON,
    ]);
    const deleted = await del(e, 'km0');
    expect([deleted.status, deleted.json()]).toEqual([200, { status: 'model km0 unloaded' }]);
    expect(e.registry.reservedBytes()).toBe(0);
    for (const reply of [await del(e, 'km0'), await get(e, '/models/km0'), await invoke(e, 'km0')]) {
      expect(reply.status).toBe(404);
      expect(reply.json()).toMatchObject({ message: 'model km0 is not loaded' });
    }
    expect((await get(e, '/models')).json()).toEqual({ models: [] });
    expect((await load(e, 'km0')).status).toBe(200);
  });

  test('the platform url /opt/ml/models/NAME/model is read under SAGEMAKER_BASE_DIR', async () => {
    const e = await start();
    const reply = await load(e, 'km3', '/opt/ml/models/km3/model');
    expect(reply.status).toBe(200);
    expect((await get(e, '/models/km3')).json()).toEqual({
      modelName: 'km3',
      modelUrl: '/opt/ml/models/km3/model',
    });
    expect((await invoke(e, 'km3')).text).toBe(K_JSON);
    const outside = await load(e, 'etc', '/opt/ml/models/../../../etc');
    expect([outside.status, (outside.json() as { message: string }).message]).toEqual([
      400,
      expect.stringMatching(/is outside/),
    ]);
  });

  test('invoke speaks every codec of the single-model server: k-means and ONNX', async () => {
    const e = await start();
    expect((await load(e, 'km1')).status).toBe(200);
    expect((await load(e, 'onnx')).status).toBe(200);
    const json = await request(e.url, {
      path: '/models/km1/invoke',
      headers: { 'Content-Type': 'application/json', Accept: 'text/csv' },
      body: JSON.stringify({
        instances: [
          [1.5, 16, 14, 23],
          [1, 2, 3, 4],
        ],
      }),
    });
    expect([json.status, json.text]).toEqual([200, '1.0,17.124544143676758\n2.0,0.0\n']);
    const lines = await request(e.url, {
      path: '/models/km1/invoke',
      headers: { 'Content-Type': 'application/jsonlines', Accept: 'application/jsonlines' },
      body: '{"features": [1, 2, 3, 4]}\n',
    });
    expect([lines.status, lines.text]).toEqual([
      200,
      '{"distance_to_cluster": 0.0, "closest_cluster": 2.0}\n',
    ]);
    // y = x W + b: [1,2,3,4] -> [1+4+0.5, 2+3-0.5]
    const onnx = await invoke(e, 'onnx', '1,2,3,4\n');
    expect(onnx.status).toBe(200);
    expect(onnx.text).toBe('{"predictions": [{"y": [5.5, 4.5]}]}');
    const unsupported = await invoke(e, 'onnx', 'x', { 'Content-Type': 'image/png' });
    expect(unsupported.status).toBe(415);
    const badAccept = await invoke(e, 'km1', ROW, { Accept: 'image/png' });
    expect(badAccept.status).toBe(406);
    const badRow = await invoke(e, 'km1', '1,2');
    expect(badRow.status).toBe(400);
  });

  test('bad loads get a 4xx with the reason; the endpoint stays up and holds nothing', async () => {
    const e = await start();
    const cases: [string, string, number, RegExp][] = [
      ['escape', path.join(models, '../outside/model'), 400, /is outside/],
      ['etc', '/etc', 400, /is outside/],
      ['link', urls['link']!, 400, /leads outside/],
      ['missing', path.join(models, 'nope/model'), 400, /does not exist/],
      ['empty', urls['empty']!, 400, /could not be loaded: no model found .*expected/],
      ['corrupt', urls['corrupt']!, 400, /could not be loaded: .*onnxruntime/],
    ];
    for (const [name, url, status, reason] of cases) {
      const reply = await load(e, name, url);
      expect([name, reply.status]).toEqual([name, status]);
      expect((reply.json() as { message: string }).message).toMatch(reason);
    }
    for (const body of ['{', '{"model_name": "a"}', '[]', 'null']) {
      const reply = await request(e.url, {
        path: '/models',
        body,
        headers: { 'Content-Type': 'application/json' },
      });
      expect([body, reply.status]).toEqual([body, 400]);
    }
    expect((await request(e.url, { method: 'PUT', path: '/models' })).status).toBe(405);
    expect((await get(e, '/models/a/b/c')).status).toBe(404);
    expect((await get(e, '/models/%E0%A4%A')).status).toBe(400);
    expect((await get(e, '/ping')).status).toBe(200);
    expect((await get(e, '/models')).json()).toEqual({ models: [] });
    expect(e.registry.reservedBytes()).toBe(0);
    expect((await load(e, 'km2')).status).toBe(200);
  });

  test('GET /models pages with next_page_token; bad tokens and sizes are 400', async () => {
    const e = await start();
    for (const name of ['km4', 'km2', 'km0', 'km3', 'km1']) expect((await load(e, name)).status).toBe(200);
    const names: string[] = [];
    let token: string | undefined;
    const pages: number[] = [];
    do {
      const reply = await get(e, `/models?max_results=2${token ? `&next_page_token=${token}` : ''}`);
      const page = reply.json() as { models: { modelName: string }[]; nextPageToken?: string };
      pages.push(page.models.length);
      names.push(...page.models.map((m) => m.modelName));
      token = page.nextPageToken;
    } while (token);
    expect(pages).toEqual([2, 2, 1]);
    expect(names).toEqual(['km0', 'km1', 'km2', 'km3', 'km4']);
    expect((await get(e, '/models?next_page_token=***')).status).toBe(400);
    expect((await get(e, '/models?max_results=0')).status).toBe(400);
  });
});

describe('multi-model endpoint: memory budget', () => {
  test('a model larger than the whole budget is 507', async () => {
    const e = await start(kmeansBudget(4));
    const reply = await load(e, 'big');
    expect(reply.status).toBe(507);
    expect((reply.json() as { message: string }).message).toMatch(/more than the whole budget/);
    expect(e.registry.reservedBytes()).toBe(0);
  });

  test('the least recently used idle model is unloaded to make room', async () => {
    const e = await start(kmeansBudget(2));
    expect((await load(e, 'km0')).status).toBe(200);
    expect((await load(e, 'km1')).status).toBe(200);
    expect((await invoke(e, 'km0')).status).toBe(200); // km1 is now the least recently used
    expect((await load(e, 'km2')).status).toBe(200);
    expect((await get(e, '/models')).json()).toEqual({
      models: [
        { modelName: 'km0', modelUrl: urls['km0'] },
        { modelName: 'km2', modelUrl: urls['km2'] },
      ],
    });
    expect((await invoke(e, 'km1')).status).toBe(404);
    expect(e.registry.reservedBytes()).toBeLessThanOrEqual(e.registry.budgetBytes);
  });

  test('507 when every model in the budget is busy; a delete waits for its invocation', async () => {
    const e = await start(kmeansBudget(2));
    expect((await load(e, 'slow1')).status).toBe(200);
    expect((await load(e, 'slow2')).status).toBe(200);
    holdSlowInvocations();
    slowStarted = 0;
    const busy = [
      invoke(e, 'slow1', '{}', { 'Content-Type': 'application/json' }),
      invoke(e, 'slow2', '{}', { 'Content-Type': 'application/json' }),
    ];
    while (slowStarted < 2) await new Promise((resolve) => setImmediate(resolve));
    const full = await load(e, 'km0');
    expect(full.status).toBe(507);
    expect((full.json() as { message: string }).message).toMatch(/held by models in use/);
    const deleting = del(e, 'slow1');
    expect((await invoke(e, 'slow1')).status).toBe(404); // gone for new requests at once
    releaseSlow();
    expect((await Promise.all(busy)).map((r) => [r.status, r.text])).toEqual([
      [200, '"done"'],
      [200, '"done"'],
    ]);
    expect((await deleting).status).toBe(200);
    expect((await load(e, 'km0')).status).toBe(200);
  });
});

describe('multi-model endpoint: concurrency', () => {
  test('/ping stays 200 during a load; concurrent loads of one name share it: 200 and 409', async () => {
    const e = await start();
    holdLoads();
    const first = load(e, 'lazy');
    const second = load(e, 'lazy');
    await until(() => loadsStarted === 1);
    expect((await get(e, '/ping')).status).toBe(200);
    expect((await get(e, '/models/lazy')).status).toBe(200); // listed while loading
    const invoked = invoke(e, 'lazy', '{}', { 'Content-Type': 'application/json' }); // waits for the load
    releaseLoads();
    expect([(await first).status, (await second).status].sort()).toEqual([200, 409]);
    expect(loadsStarted).toBe(1);
    expect([(await invoked).status, (await invoked).text]).toEqual([200, '"loaded"']);
  });

  test('a delete racing a load: the load answers 200, the delete 200 once freed, then 404', async () => {
    const e = await start();
    holdLoads();
    const loading = load(e, 'lazy');
    await until(() => loadsStarted === 1);
    const deleting = del(e, 'lazy');
    const reloading = load(e, 'lazy'); // waits for the delete, then loads again
    releaseLoads();
    expect((await loading).status).toBe(200);
    expect((await deleting).status).toBe(200);
    expect((await reloading).status).toBe(200);
    expect((await invoke(e, 'lazy', '{}', { 'Content-Type': 'application/json' })).status).toBe(200);
    expect((await del(e, 'lazy')).status).toBe(200);
    expect((await get(e, '/models/lazy')).status).toBe(404);
    expect(e.registry.reservedBytes()).toBe(0);
  });

  test('parallel load/invoke/delete on the same names: only documented statuses, and nothing left after', async () => {
    const e = await start();
    const names = ['km0', 'km1', 'km2', 'onnx', 'heavy'];
    const seen = { load: new Set<number>(), invoke: new Set<number>(), delete: new Set<number>() };
    const round = async (): Promise<void> => {
      const ops = names.flatMap((name) => [
        load(e, name).then((r) => seen.load.add(r.status)),
        invoke(e, name, '1,2,3,4\n').then((r) => seen.invoke.add(r.status)),
        del(e, name).then((r) => seen.delete.add(r.status)),
        load(e, name).then((r) => seen.load.add(r.status)),
        invoke(e, name, '1,2,3,4\n').then((r) => seen.invoke.add(r.status)),
      ]);
      await Promise.all(ops);
      await Promise.all(names.map((name) => del(e, name)));
    };
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      return process.memoryUsage().rss;
    };
    for (let i = 0; i < 5; i++) await round(); // warm up: codecs, onnxruntime, sockets
    const before = await settle();
    for (let i = 0; i < 40; i++) await round();
    const after = await settle();
    expect([...seen.load].sort()).toEqual(expect.arrayContaining([200]));
    for (const status of seen.load) expect([200, 409]).toContain(status);
    for (const status of seen.invoke) expect([200, 404]).toContain(status);
    for (const status of seen.delete) expect([200, 404]).toContain(status);
    expect((await get(e, '/models')).json()).toEqual({ models: [] });
    expect(e.registry.reservedBytes()).toBe(0);
    expect((await get(e, '/ping')).status).toBe(200);
    // 40 rounds load the 16 MB heavy model at least 40 times: a leaked copy per load would be >= 640 MB.
    expect(after - before).toBeLessThan(200 * 1024 * 1024);
    // 45 rounds of 16 MB loads: 23-30 s on a loaded 2-core CI host, against the 30 s default.
  }, 120_000);
});
