import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { send } from '../../src/io/http-client.js';

let server: http.Server;
let base: string;
let seen: { method?: string; headers: http.IncomingHttpHeaders; body: string }[];

beforeEach(async () => {
  seen = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/silent') return; // never answers
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end(`echo:${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('send', () => {
  it('GETs without a body and POSTs a body with its headers, reading the whole answer', async () => {
    const got = await send(`${base}/ping`);
    expect(got).toEqual({ status: 201, body: Buffer.from('echo:'), contentType: 'text/plain' });
    const posted = await send(`${base}/invocations`, {
      body: Buffer.from('1,2'),
      headers: { 'content-type': 'text/csv', 'content-length': 3 },
    });
    expect(posted.body.toString()).toBe('echo:1,2');
    expect(seen.map((r) => [r.method, r.headers['content-type'], r.body])).toEqual([
      ['GET', undefined, ''],
      ['POST', 'text/csv', '1,2'],
    ]);
  });

  it('says when the body is sent, before the answer, so its memory can be reused', async () => {
    const events: string[] = [];
    const answer = send(`${base}/silent`, {
      body: Buffer.alloc(4 * 1024 * 1024, 49),
      headers: { 'content-length': 4 * 1024 * 1024 },
      timeoutMs: 2_000,
      onBodySent: () => events.push('sent'),
    }).catch(() => events.push('no answer'));
    await expect.poll(() => seen.length).toBe(1);
    expect(events).toEqual(['sent']);
    expect(seen[0]!.body.length).toBe(4 * 1024 * 1024);
    server.closeAllConnections();
    await answer;
    expect(events).toEqual(['sent', 'no answer']);
  });

  it('rejects a server that stays silent past the timeout, and an aborted request', async () => {
    await expect(send(`${base}/silent`, { timeoutMs: 100 })).rejects.toThrow('no answer within 0.1 s');
    const controller = new AbortController();
    const pending = send(`${base}/silent`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it("rejects with Node's error code when nothing listens", async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await expect(send(`${base}/ping`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    server = http.createServer();
    server.listen(0, '127.0.0.1');
  });
});
