/** What the fuzz tests share: a seeded generator, one request on a keep-alive agent, the heap after GC. */
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Seeded random choices, so that a failure can be replayed. */
export function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { int, pick, bytes, next };
}

/** A generator from {@link generator}. */
export type Gen = ReturnType<typeof generator>;

/** A fuzz answer: status, Content-Type and body text. */
export interface FuzzAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/**
 * Sends one request on `agent` and reads the whole answer. With `resetIsAnswer`, a connection the server
 * closed mid-upload (a 413 with `Connection: close`) resolves as status 0 instead of rejecting.
 */
export function sendOn(
  agent: http.Agent,
  url: string,
  request: { method: string; headers?: Record<string, string>; body?: Buffer | string },
  resetIsAnswer = false,
): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const req = http.request(
      url,
      {
        method: request.method,
        agent,
        headers: { ...(body ? { 'Content-Length': body.length } : {}), ...request.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', (error) =>
      resetIsAnswer ? resolve({ status: 0, type: '', body: String(error) }) : reject(error),
    );
    req.end(body);
  });
}

/** The heap in use after a full garbage collection. */
export function heapAfterGc(): number {
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
