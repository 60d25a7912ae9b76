/** The model slot the app holds, and the app's one error path, through app.request (no port). */
import { expect, test } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { ModelHandler } from '../../src/serve/handler.js';
import { createModelSlot } from '../../src/serve/slot.js';
import { quietLog, settingsFrom } from './helpers.js';

/** A model that answers its generation number, and counts how many copies are open. */
function generations() {
  let loads = 0;
  let open = 0;
  return {
    open: () => open,
    async load(): Promise<ModelHandler> {
      const generation = ++loads;
      open++;
      let closed = false;
      return {
        kind: 'generation',
        invoke: async () => ({ body: `generation ${generation}`, contentType: 'text/plain' }),
        close: async () => {
          if (!closed) open--;
          closed = true;
        },
      };
    },
  };
}

const invoke = { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' };

test('a slot loads, closes (freeing the model) and loads again; /ping and /invocations follow its state', async () => {
  const model = generations();
  const slot = createModelSlot({ load: model.load, log: quietLog });
  expect(slot.state()).toBe('unloaded');
  const app = createApp({ slot, settings: settingsFrom(), log: quietLog });
  await app.loaded;
  expect(slot.state()).toBe('ready');
  expect((await app.request('/ping')).status).toBe(200);
  expect(await (await app.request('/invocations', invoke)).text()).toBe('generation 1');

  await slot.close();
  expect(slot.state()).toBe('unloaded');
  expect(model.open()).toBe(0);
  const ping = await app.request('/ping');
  expect(ping.status).toBe(503);
  expect(await ping.json()).toEqual({ error: 'Service Unavailable', message: 'no model is loaded' });
  const refused = await app.request('/invocations', invoke);
  expect(refused.status).toBe(503);
  expect(await refused.json()).toMatchObject({ message: 'the model is not ready' });

  await Promise.all([slot.load(), slot.load()]); // concurrent loads share one
  expect(model.open()).toBe(1);
  expect(await (await app.request('/invocations', invoke)).text()).toBe('generation 2');
  await app.close();
  expect(model.open()).toBe(0);
});

test('a failed load is visible as state and reason, and a later load can succeed', async () => {
  let attempts = 0;
  const slot = createModelSlot({
    log: quietLog,
    load: async () => {
      if (++attempts === 1) throw new Error('disk not ready');
      return { kind: 'ok', invoke: async () => ({ body: 'ok', contentType: 'text/plain' }) };
    },
  });
  const app = createApp({ slot, settings: settingsFrom(), log: quietLog });
  await app.loaded;
  expect(slot.state()).toBe('failed');
  expect(slot.failure()).toBe('disk not ready');
  const refused = await app.request('/invocations', invoke);
  expect(refused.status).toBe(503);
  expect(await refused.json()).toMatchObject({ message: 'the model failed to load: disk not ready' });
  await slot.load();
  expect(slot.state()).toBe('ready');
  expect(await (await app.request('/invocations', invoke)).text()).toBe('ok');
  await app.close();
});

test('a 500 from an express route carries a request id and no internals, like an invocation 500', async () => {
  const app = createApp({
    handler: {
      kind: 'broken',
      invoke: async () => {
        throw new Error('secret detail');
      },
    },
    settings: settingsFrom(),
    log: quietLog,
  });
  app.express.get('/custom', () => {
    throw new Error('secret detail');
  });
  for (const [path, init] of [
    ['/custom', undefined],
    ['/invocations', invoke],
  ] as const) {
    const res = await app.request(path, init);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { requestId: string };
    expect(body.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(body).toEqual({
      error: 'Internal Server Error',
      message: `internal error on this request (request id ${body.requestId}); see the server log`,
      requestId: body.requestId,
    });
  }
  expect((await app.request('/nowhere?x=1')).status).toBe(404);
  await app.close();
});
