/**
 * Calls a node:http request listener without a port: a real HTTP/1.1 exchange (node's own parser on
 * both ends) over a pair of in-memory streams, answered as a web `Response`, as Hono's `app.request()`.
 */
import http from 'node:http';
import { Duplex } from 'node:stream';

/** One end of an in-memory connection, with the socket methods node:http calls on a net.Socket. */
class MemorySocket extends Duplex {
  peer: MemorySocket | undefined;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.peer?.push(chunk);
    done();
  }
  override _final(done: (error?: Error | null) => void): void {
    this.peer?.push(null);
    done();
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

function socketPair(): [MemorySocket, MemorySocket] {
  const client = new MemorySocket();
  const server = new MemorySocket();
  client.peer = server;
  server.peer = client;
  return [client, server];
}

const servers = new WeakMap<http.RequestListener, http.Server>();

/**
 * Sends one request to `listener` in memory. `input` is a path (`/invocations`), a URL or a `Request`;
 * `init` as for `fetch`. Bodies are read whole on both sides.
 * @example const res = await requestInMemory(app.listener, '/ping'); res.status === 200
 */
export async function requestInMemory(
  listener: http.RequestListener,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const request = new Request(
    input instanceof Request ? input : new URL(String(input), 'http://localhost'),
    init,
  );
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  let server = servers.get(listener);
  if (!server) {
    server = http.createServer(listener);
    servers.set(listener, server);
  }
  const [clientSide, serverSide] = socketPair();
  server.emit('connection', serverSide);
  const url = new URL(request.url);
  const headers: Record<string, string> = Object.fromEntries(request.headers);
  if (body) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    const outgoing = http.request(
      {
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: { host: url.host, ...headers },
        createConnection: () => clientSide as unknown as import('node:net').Socket,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', reject);
        answer.on('end', () => {
          const status = answer.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value === undefined) continue;
            for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
          }
          const payload =
            status === 204 || status === 304 || request.method === 'HEAD' ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, headers: responseHeaders }));
          serverSide.destroy();
          clientSide.destroy();
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
