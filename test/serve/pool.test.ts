import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadModel } from '../../src/serve/kinds/kind.js';
import { defaultModelKinds as kinds } from '../../src/serve/kinds/index.js';
import { withWorkerPool } from '../../src/serve/pool.js';
import { kmeansModelFile, quietLog, request, settingsFrom, startApp, type TestServer } from './helpers.js';

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-pool-'));
  await writeFile(path.join(dir, 'model_algo-1'), kmeansModelFile());
  const settings = settingsFrom();
  server = await startApp({
    loadHandler: async () => {
      const pooled = await withWorkerPool(await loadModel(dir, { settings, log: quietLog, kinds }), {
        settings,
        threads: 1,
        minBytes: 20,
      });
      // Large bodies run inline until the thread's model copy is loaded: wait, so they take the thread.
      expect(await pooled.threadsReady).toBe(true);
      return pooled;
    },
  });
  await server.app.loaded;
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('large bodies answer the same from a worker thread; small ones inline', async () => {
  const rows = `${'1.5,16,14,23\n1,2,3,4\n'.repeat(50)}`;
  const big = await request(server.url, {
    headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
    body: rows,
  });
  expect(big.status).toBe(200);
  expect(big.headers['content-type']).toBe('text/csv');
  expect(big.text).toBe('1.0,17.124544143676758\n2.0,0.0\n'.repeat(50));
  const small = await request(server.url, {
    headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
    body: '1,2,3,4',
  });
  expect(small.text).toBe('2.0,0.0\n');
});

test('a 4xx raised on a worker thread keeps its status and message', async () => {
  const reply = await request(server.url, {
    headers: { 'Content-Type': 'text/csv' },
    body: '1,2,3,4\n1,2,3,4\n1,2,3\n1,2,3,4\n',
  });
  expect(reply.status).toBe(400);
  expect((reply.json() as { message: string }).message).toContain('line 3');
});
