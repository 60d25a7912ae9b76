import os from 'node:os';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, test } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { InvocationRequest, ModelHandler } from '../../src/serve/handler.js';
import { BadRequest } from '../../src/util/errors.js';
import { quietLog, request, settingsFrom, startApp, type TestServer } from './helpers.js';

const execFileAsync = promisify(execFile);

/** A handler that answers with what it was given, so tests see what the app passes on. */
const echo: ModelHandler = {
  kind: 'echo',
  async invoke(req: InvocationRequest) {
    const seen = {
      body: req.body.toString('utf8'),
      contentType: req.contentType ?? null,
      accept: req.accept ?? null,
      customAttributes: req.customAttributes ?? null,
    };
    if (req.body.toString() === 'set-attributes') {
      return { body: JSON.stringify(seen), contentType: 'application/json', customAttributes: 'seen=1' };
    }
    if (req.body.toString() === 'bad') throw new BadRequest('line 1: bad');
    if (req.body.toString() === 'crash') throw new Error('secret internal detail');
    if (req.body.toString() === 'slow') {
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    return { body: JSON.stringify(seen), contentType: 'application/json' };
  },
};

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('GET /ping', () => {
  test('200 with an empty body when the model is ready', async () => {
    server = await startApp({ handler: echo });
    const reply = await request(server.url, { method: 'GET', path: '/ping' });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(0);
  });

  test('503 JSON while the model loads, then 200', async () => {
    let finish!: (handler: ModelHandler) => void;
    server = await startApp({ loadHandler: () => new Promise((resolve) => (finish = resolve)) });
    const loading = await request(server.url, { method: 'GET', path: '/ping' });
    expect(loading.status).toBe(503);
    expect(loading.json()).toEqual({ error: 'Service Unavailable', message: 'the model is loading' });
    const early = await request(server.url, { headers: { 'Content-Type': 'text/csv' }, body: '1' });
    expect(early.status).toBe(503);
    finish(echo);
    await server.app.loaded;
    expect((await request(server.url, { method: 'GET', path: '/ping' })).status).toBe(200);
  });

  test('503 when loading failed; invocations say why', async () => {
    server = await startApp({ loadHandler: () => Promise.reject(new Error('model.onnx is corrupt')) });
    await server.app.loaded;
    expect((await request(server.url, { method: 'GET', path: '/ping' })).status).toBe(503);
    const reply = await request(server.url, { headers: { 'Content-Type': 'text/csv' }, body: '1' });
    expect(reply.status).toBe(503);
    expect((reply.json() as { message: string }).message).toBe(
      'the model failed to load: model.onnx is corrupt',
    );
  });
});

describe('routes', () => {
  test('404 JSON for an unknown path, 405 for the wrong method', async () => {
    server = await startApp({ handler: echo });
    const missing = await request(server.url, { method: 'GET', path: '/models' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
    expect(missing.json()).toEqual({
      error: 'Not Found',
      message: 'no route for GET /models; use GET /ping or POST /invocations',
    });
    const wrong = await request(server.url, { method: 'GET', path: '/invocations' });
    expect(wrong.status).toBe(405);
    expect(wrong.json()).toMatchObject({ error: 'Method Not Allowed' });
  });

  test('GET /execution-parameters: defaults (a transform per serving thread), then what the job set', async () => {
    const workersOf = (env: Record<string, string>) => Number(env.SAGEMAKER_MODEL_SERVER_WORKERS ?? 1);
    for (const workers of [{}, { SAGEMAKER_MODEL_SERVER_WORKERS: '3' }] as Record<string, string>[]) {
      server = await startApp({
        handler: echo,
        settings: settingsFrom({ SAGEMAKER_BATCH: 'true', ...workers }),
      });
      const reply = await request(server.url, { method: 'GET', path: '/execution-parameters' });
      expect(reply.json()).toEqual({
        // One per serving thread: processes x max(1, cores / processes), at most 100 MB / 6 MB.
        MaxConcurrentTransforms: Math.min(
          workersOf(workers) * Math.max(1, Math.floor(os.availableParallelism() / workersOf(workers))),
          16,
        ),
        BatchStrategy: 'MULTI_RECORD',
        MaxPayloadInMB: 6,
      });
      await server.close();
    }
    server = await startApp({
      handler: echo,
      settings: settingsFrom({
        SAGEMAKER_BATCH_STRATEGY: 'SingleRecord',
        SAGEMAKER_MAX_PAYLOAD_IN_MB: '50',
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '4',
      }),
    });
    const set = await request(server.url, { method: 'GET', path: '/execution-parameters' });
    expect(set.json()).toEqual({
      MaxConcurrentTransforms: 2,
      BatchStrategy: 'SINGLE_RECORD',
      MaxPayloadInMB: 50,
    });
  });
});

describe('POST /invocations', () => {
  test('passes Content-Type in any spelling, the default Accept, custom attributes', async () => {
    server = await startApp({
      handler: echo,
      settings: settingsFrom({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/csv' }),
    });
    const reply = await request(server.url, {
      headers: { ContentType: 'text/csv; charset=utf-8', 'X-Amzn-SageMaker-Custom-Attributes': 'trace=7' },
      body: '1,2',
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      body: '1,2',
      contentType: 'text/csv; charset=utf-8',
      accept: 'text/csv',
      customAttributes: 'trace=7',
    });
    expect(reply.headers['x-amzn-sagemaker-custom-attributes']).toBeUndefined();
    const wildcard = await request(server.url, {
      headers: { 'content-type': 'x', Accept: '*/*' },
      body: '1',
    });
    expect((wildcard.json() as { accept: string }).accept).toBe('text/csv');
    const echoed = await request(server.url, {
      headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'trace=7' },
      body: 'set-attributes',
    });
    expect(echoed.headers['x-amzn-sagemaker-custom-attributes']).toBe('seen=1');
  });

  test('binary answers arrive byte for byte, small (one write with the head) and large', async () => {
    const bytes = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + 3) % 256));
    server = await startApp({
      handler: {
        kind: 'binary',
        // A plain Uint8Array too, as answers from the worker pool's threads arrive.
        invoke: async (req) => {
          const [length, plain] = req.body.toString().split(',');
          const body = bytes(Number(length));
          return {
            body: plain ? (new Uint8Array(body) as Buffer) : body,
            contentType: 'application/octet-stream',
          };
        },
      },
    });
    for (const length of [0, 1, 256, 8 * 1024, 8 * 1024 + 1, 100_000]) {
      for (const plain of ['', ',plain']) {
        const reply = await request(server.url, {
          headers: { 'Content-Type': 'text/csv' },
          body: `${length}${plain}`,
        });
        expect(reply.status).toBe(200);
        expect(reply.headers['content-length']).toBe(String(length));
        expect(reply.body.equals(bytes(length))).toBe(true);
      }
    }
  });

  test('chunked bodies are read whole', async () => {
    server = await startApp({ handler: echo });
    const reply = await request(server.url, {
      headers: { 'Content-Type': 'text/csv' },
      body: ['1,', '2\n', '3,4\n'],
    });
    expect(reply.status).toBe(200);
    expect((reply.json() as { body: string }).body).toBe('1,2\n3,4\n');
  });

  test('413 JSON over SAGEMAKER_MAX_PAYLOAD_IN_MB, declared or chunked; 0 lifts the limit', async () => {
    server = await startApp({ handler: echo, settings: settingsFrom({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '1' }) });
    const big = Buffer.alloc(1024 * 1024 + 1, 0x31);
    const declared = await request(server.url, { headers: { 'Content-Type': 'text/csv' }, body: big });
    expect(declared.status).toBe(413);
    expect(declared.json()).toMatchObject({
      error: 'Payload Too Large',
      message:
        'the body is larger than 1 MiB; send smaller requests or raise SAGEMAKER_MAX_PAYLOAD_IN_MB (0 = no limit)',
    });
    const chunked = await request(server.url, {
      headers: { 'Content-Type': 'text/csv' },
      body: [big.subarray(0, 600_000), big.subarray(600_000)],
    });
    expect(chunked.status).toBe(413);
    const exact = await request(server.url, {
      headers: { 'Content-Type': 'text/csv' },
      body: big.subarray(1),
    });
    expect(exact.status).toBe(200);
    await server.close();
    server = await startApp({ handler: echo, settings: settingsFrom({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' }) });
    const unlimited = await request(server.url, {
      headers: { 'Content-Type': 'text/csv' },
      body: [big, big],
    });
    expect(unlimited.status).toBe(200);
    expect((unlimited.json() as { body: string }).body.length).toBe(2 * big.length);
  });

  test('handler errors: HttpError keeps its status, anything else is 500 with a request id', async () => {
    server = await startApp({ handler: echo });
    const bad = await request(server.url, { body: 'bad' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({
      error: 'Bad Request',
      message: 'line 1: bad',
      requestId: expect.any(String),
    });
    const crash = await request(server.url, { body: 'crash' });
    expect(crash.status).toBe(500);
    const body = crash.json() as { message: string; requestId: string };
    expect(body.message).toBe(
      `internal error on this request (request id ${body.requestId}); see the server log`,
    );
    expect(crash.text).not.toContain('secret');
  });

  test('504 after SAGEMAKER_MODEL_SERVER_TIMEOUT; the server stays healthy', async () => {
    server = await startApp({
      handler: echo,
      settings: settingsFrom({ SAGEMAKER_MODEL_SERVER_TIMEOUT: '0.3' }),
    });
    const slow = await request(server.url, { body: 'slow' });
    expect(slow.status).toBe(504);
    expect(slow.json()).toMatchObject({
      error: 'Gateway Timeout',
      message: 'the model did not answer within 0.3 s (SAGEMAKER_MODEL_SERVER_TIMEOUT)',
    });
    expect((await request(server.url, { method: 'GET', path: '/ping' })).status).toBe(200);
    expect((await request(server.url, { body: 'quick' })).status).toBe(200);
  });
});

test('large invocations computing on the HTTP thread take turns: /ping is answered between them', async () => {
  // Each large request blocks the thread for 250 ms, as a big CSV batch does. A separate client process
  // sends six at once and a /ping 20 ms later; the server notes what it computed and when the ping came.
  // 250 ms, not less: the ping may reach the socket up to ~700 ms late (a loaded 2-core CI machine
  // descheduling the client) and still be answered by the fourth turn; without turns it comes last.
  const order: string[] = [];
  const blocking: ModelHandler = {
    kind: 'blocking',
    async invoke(req: InvocationRequest) {
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // computing
      }
      order.push(`invocation ${req.body.subarray(0, 1).toString()}`);
      return { body: '{}', contentType: 'application/json' };
    },
  };
  const app = createApp({ settings: settingsFrom(), log: quietLog, handler: blocking });
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/ping') order.push('ping');
    app.listener(req, res);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const client = `
    const http = require('node:http');
    const send = (path, body) => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: ${port}, path, method: body ? 'POST' : 'GET',
        headers: body ? { 'Content-Type': 'text/csv' } : {} }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', reject);
      req.end(body);
    });
    const large = [1, 2, 3, 4, 5, 6].map((tag) => send('/invocations', tag + '0'.repeat(64 * 1024)));
    setTimeout(() => Promise.all([send('/ping'), ...large]).then((codes) => console.log(codes.join(','))), 20);
  `;
  try {
    const { stdout } = await execFileAsync(process.execPath, ['-e', client]);
    expect(stdout.trim()).toBe('200,200,200,200,200,200,200');
    expect(order.filter((event) => event.startsWith('invocation'))).toHaveLength(6);
    // Without turns the six computations run back to back before the loop reads the ping.
    expect(order.indexOf('ping')).toBeLessThanOrEqual(3);
  } finally {
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(resolve));
    await app.close();
  }
});

describe('memory', () => {
  test('an answered invocation leaves nothing for the old generation: young collections free it', async () => {
    // A request object literal with its own `get signal()` made V8 allocate a hidden class per request
    // in old space, which kept the request's closures, IncomingMessage and body alive past every
    // young-generation collection: about 5.4 KB per request promoted (old-space growth between full
    // collections), hence 5-30 ms scavenges and mark-compacts twice a second under load. Now under 1 KB,
    // most of it this test's own client.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
    server = await startApp({
      handler: { kind: 'small', invoke: async () => ({ body: '{}', contentType: 'application/json' }) },
    });
    const url = server.url;
    const oldSpaceBytes = (): number =>
      getHeapSpaceStatistics()
        .filter((space) => space.space_name === 'old_space' || space.space_name === 'map_space')
        .reduce((sum, space) => sum + space.space_used_size, 0);
    const batch = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        const reply = await request(url, { headers: { 'Content-Type': 'text/csv' }, body: `${i},2,3` });
        expect(reply.status).toBe(200);
      }
      // Two scavenges: what is still reachable after them is promoted to the old generation.
      gc({ type: 'minor' });
      gc({ type: 'minor' });
    };
    for (let i = 0; i < 4; i++) await batch(); // warm-up: compiled code, feedback, the keep-alive socket
    gc();
    const before = oldSpaceBytes();
    for (let i = 0; i < 10; i++) await batch();
    const promotedPerRequest = (oldSpaceBytes() - before) / 500;
    expect(promotedPerRequest).toBeLessThan(2500);
  });
});
