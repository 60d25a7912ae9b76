import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from '../../src/io/http-body.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Starts a server that reads each body with `limit` and answers what it read. */
async function serve(limit: number): Promise<string> {
  server = http.createServer((req, res) => {
    readBody(req, { limit }).then(
      (body) => {
        const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
        res.end(JSON.stringify({ length: body.length, sum: body.reduce((a, b) => a + b, 0), owned }));
      },
      (error: Error) => {
        res.statusCode = 413;
        res.end(error.message);
      },
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post(url: string, pieces: Buffer[], headers: http.OutgoingHttpHeaders): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve([res.statusCode!, text]));
    });
    req.on('error', reject);
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

describe('readBody', () => {
  const pieces = [300_000, 1, 65_536, 200_000].map((n, i) => Buffer.alloc(n, i + 1));
  const length = pieces.reduce((a, p) => a + p.length, 0);
  const sum = pieces.reduce((a, p, i) => a + p.length * (i + 1), 0);

  it('reads a declared body sent in pieces into one buffer of its own, byte for byte', async () => {
    const url = await serve(1024 * 1024);
    expect(await post(url, pieces, { 'content-length': length })).toEqual([
      200,
      JSON.stringify({ length, sum, owned: true }),
    ]);
  });

  it('reads a chunked body the same', async () => {
    const url = await serve(1024 * 1024);
    const [status, text] = await post(url, pieces, { 'transfer-encoding': 'chunked' });
    expect([status, JSON.parse(text).length, JSON.parse(text).sum]).toEqual([200, length, sum]);
  });

  it('rejects a body over the limit, declared or not', async () => {
    const url = await serve(500_000);
    expect(await post(url, pieces, { 'content-length': length })).toEqual([
      413,
      'the body is larger than 500000 bytes',
    ]);
    expect(await post(url, pieces, { 'transfer-encoding': 'chunked' })).toEqual([
      413,
      'the body is larger than 500000 bytes',
    ]);
  });
});
