/**
 * withWorkerPool around a handler that is not one of smkit's kinds: its worker threads must answer with
 * the handler's own model, or the pool must refuse it, never answer large requests with another model.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { ModelHandler } from '../../src/serve/handler.js';
import { withWorkerPool } from '../../src/serve/pool.js';
import { kmeansModelFile, quietLog, settingsFrom } from './helpers.js';

/** A user's model module: answers which model (its directory's name) and which thread served it. */
const CUSTOM_MODEL = `
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
export async function loadRowCounter(modelDir) {
  return {
    kind: 'row-counter',
    workerLoad: { module: import.meta.url, exportName: 'loadRowCounter', modelDir },
    async invoke(request) {
      if (request.customAttributes === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
      const rows = request.body.toString('utf8').split('\\n').filter(Boolean).length;
      const where = isMainThread ? 'inline' : 'worker';
      return { body: path.basename(modelDir) + ' counted ' + rows + ' rows ' + where, contentType: 'text/plain' };
    },
  };
}
`;

let dir: string;
let modelDir: string;
let module: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-pool-custom-'));
  // A k-means model sits in the same directory: threads that detect a model themselves would serve it.
  modelDir = path.join(dir, 'counter-model');
  await mkdir(modelDir);
  await writeFile(path.join(modelDir, 'model_algo-1'), kmeansModelFile());
  module = path.join(dir, 'row-counter.mjs');
  await writeFile(module, CUSTOM_MODEL);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a large body that comes while the threads still load waits for them: the same route, the same answer', async () => {
  const { loadRowCounter } = (await import(pathToFileURL(module).href)) as {
    loadRowCounter(dir: string): Promise<ModelHandler>;
  };
  const settings = settingsFrom();
  const pooled = await withWorkerPool(await loadRowCounter(modelDir), { settings, threads: 1 });
  const app = createApp({ handler: pooled, settings, log: quietLog });
  try {
    const body = '1.5,16,14,23\n'.repeat(100_000); // 1.3 MB
    const first = await app.request('/invocations', {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv' },
      body,
    });
    expect(await first.text()).toBe('counter-model counted 100000 rows worker');
  } finally {
    await app.close();
  }
});

test('a custom handler in the worker pool answers a body of 1 MiB and more with its own model', async () => {
  const { loadRowCounter } = (await import(pathToFileURL(module).href)) as {
    loadRowCounter(dir: string): Promise<ModelHandler>;
  };
  const settings = settingsFrom();
  const pooled = await withWorkerPool(await loadRowCounter(modelDir), { settings, threads: 1 });
  expect(await pooled.threadsReady).toBe(true);
  const app = createApp({ handler: pooled, settings, log: quietLog });
  try {
    const rows = 200_000;
    const body = '1.5,16,14,23\n'.repeat(rows); // 2.6 MB of CSV a k-means model would also answer
    expect(body.length).toBeGreaterThanOrEqual(1024 * 1024);
    const large = await app.request('/invocations', {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv' },
      body,
    });
    expect(large.status).toBe(200);
    expect(large.headers.get('content-type')).toBe('text/plain');
    expect(await large.text()).toBe(`counter-model counted ${rows} rows worker`);
    const small = await app.request('/invocations', {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv' },
      body: '1,2,3,4\n',
    });
    expect(await small.text()).toBe('counter-model counted 1 rows inline');
  } finally {
    await app.close();
  }
});

test('with inlineWhenBusy, a large body that finds every thread busy runs on the HTTP thread instead of queueing', async () => {
  const { loadRowCounter } = (await import(pathToFileURL(module).href)) as {
    loadRowCounter(dir: string): Promise<ModelHandler>;
  };
  const settings = settingsFrom();
  const pooled = await withWorkerPool(await loadRowCounter(modelDir), {
    settings,
    threads: 1,
    inlineWhenBusy: true,
  });
  expect(await pooled.threadsReady).toBe(true);
  const app = createApp({ handler: pooled, settings, log: quietLog });
  try {
    // The model takes 300 ms per body, so the first body still holds the only thread when the second comes.
    const post = (rows: number) =>
      app.request('/invocations', {
        method: 'POST',
        headers: { 'Content-Type': 'text/csv', 'X-Amzn-SageMaker-Custom-Attributes': 'slow' },
        body: '1.5,16,14,23\n'.repeat(rows),
      });
    const answers = await Promise.all([post(100_000), post(100_001)]);
    const texts = await Promise.all(answers.map((answer) => answer.text()));
    expect(texts.map((text) => text.replace(/ \w+$/, ''))).toEqual([
      'counter-model counted 100000 rows',
      'counter-model counted 100001 rows',
    ]);
    expect(texts.map((text) => text.split(' ').at(-1)).sort()).toEqual(['inline', 'worker']);
    // Once the thread is free again, large bodies go back to it.
    expect(await (await post(100_002)).text()).toBe('counter-model counted 100002 rows worker');
  } finally {
    await app.close();
  }
});

test('the pool refuses a handler that does not say how a worker thread loads its model', async () => {
  const handler: ModelHandler = {
    kind: 'no-loader',
    invoke: async () => ({ body: 'x', contentType: 'text/plain' }),
  };
  await expect(withWorkerPool(handler, { settings: settingsFrom(), threads: 1 })).rejects.toThrow(
    'withWorkerPool: the no-loader handler does not say how a worker thread loads its model; set its ' +
      'workerLoad (or pass options.worker) to { module, exportName, modelDir }, or serve it without the pool',
  );
});
