/**
 * `smkit serve` and `smkit local invoke` as real processes (issue 13): SIGTERM under load loses no
 * response bytes, a model that fails to load says why from the first log lines, and setup mistakes are
 * one line on stderr with exit code 1.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { kmeansModelFile, request } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = ['--import', 'tsx', 'test/support/smkit-cli.ts'];

let base: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'smkit-hardening-process-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

let count = 0;
/** A SAGEMAKER_BASE_DIR whose model directory holds `files`. */
async function jobTree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = path.join(base, `tree-${count++}`);
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, 'model', name)), { recursive: true });
    await writeFile(path.join(dir, 'model', name), bytes);
  }
  return dir;
}

/** A free loopback port (the OS picks it; it is released before use). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  log(): string;
  exited: Promise<number | null>;
}

function startServe(tree: string, port: number, env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SAGEMAKER_BASE_DIR: tree,
      SAGEMAKER_BIND_TO_PORT: String(port),
      SAGEMAKER_MODEL_SERVER_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, log: () => log, exited };
}

/** Polls /ping until it answers `status` (up to 90 s on a loaded machine). */
async function pingUntil(url: string, status: number): Promise<void> {
  for (let i = 0; i < 900; i++) {
    const got = await request(url, { method: 'GET', path: '/ping' }).then(
      (r) => r.status,
      () => 0,
    );
    if (got === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/ping never answered ${status}`);
}

/** A response whose body is read only when `resume()` is called: a slow client. */
function slowReader(url: string, body: string) {
  let resumeReading: () => void = () => {};
  const headers = new Promise<{ length: number; bytes: Promise<number> }>((resolve, reject) => {
    const req = http.request(
      `${url}/invocations`,
      {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'text/csv', Accept: 'application/json', 'Content-Length': body.length },
      },
      (res) => {
        res.pause();
        let received = 0;
        const bytes = new Promise<number>((done) => {
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          res.on('end', () => done(received));
          res.on('error', () => done(received));
          res.on('close', () => done(received));
        });
        resumeReading = () => res.resume();
        resolve({ length: Number(res.headers['content-length']), bytes });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { headers, resume: () => resumeReading() };
}

test('SIGTERM while slow clients are still reading large answers: every byte arrives, then exit 0', async () => {
  const tree = await jobTree({ 'model_algo-1': kmeansModelFile() });
  const served = startServe(tree, await freePort());
  try {
    await pingUntil(served.url, 200);
    // 400,000 rows (3.2 MB) answer about 20 MB of JSON each: far more than the kernel buffers hold.
    const body = '1,2,3,4\n'.repeat(400_000);
    const clients = [slowReader(served.url, body), slowReader(served.url, body)];
    const answers = await Promise.all(clients.map((c) => c.headers));
    for (const answer of answers) expect(answer.length).toBeGreaterThan(15_000_000);
    served.child.kill('SIGTERM');
    // The server has ended both responses; the bytes still wait in its buffers for the readers.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const client of clients) client.resume();
    const received = await Promise.all(answers.map((a) => a.bytes));
    expect(received).toEqual(answers.map((a) => a.length));
    expect(await served.exited).toBe(0);
  } finally {
    served.child.kill('SIGKILL');
  }
}, 180_000);

test('a model that fails to load: the reason is in the first log lines, and /ping and /invocations answer 503 with it', async () => {
  const tree = await jobTree({
    'code/inference.mjs': 'export const transformFn = () => 1;\nexport const predictFn = () => 1;\n',
  });
  const served = startServe(tree, await freePort());
  try {
    await pingUntil(served.url, 503);
    const reason = /inference\.mjs defines transformFn together with predictFn: transformFn replaces inputFn/;
    for (let i = 0; i < 100 && !reason.test(served.log()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const first = served
      .log()
      .split('\n')
      .slice(0, 6)
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(first).toContainEqual(
      expect.objectContaining({ level: 50, msg: expect.stringMatching(/^model failed to load: /) }),
    );
    expect(first.find((l) => l.level === 50)?.msg).toMatch(reason);
    const ping = await request(served.url, { method: 'GET', path: '/ping' });
    expect(ping.status).toBe(503);
    expect(ping.headers['content-type']).toBe('application/json');
    expect((ping.json() as { message: string }).message).toMatch(reason);
    const invocation = await request(served.url, { headers: { 'Content-Type': 'text/csv' }, body: '1' });
    expect(invocation.status).toBe(503);
    expect((invocation.json() as { message: string }).message).toMatch(reason);
    expect(served.child.exitCode).toBeNull();
  } finally {
    served.child.kill('SIGKILL');
  }
}, 120_000);

function smkit(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (error, _out, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** stderr without the JSON log lines: what a person reads. */
function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
}

test.each([['1'], ['2']])(
  'smkit serve on a busy port (%s worker processes): exit 1 and one line saying which port, no restarts',
  async (workers) => {
    const tree = await jobTree({ 'model_algo-1': kmeansModelFile() });
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const result = await smkit(['serve'], {
        SAGEMAKER_BASE_DIR: tree,
        SAGEMAKER_BIND_TO_PORT: String(port),
        SAGEMAKER_MODEL_SERVER_WORKERS: workers,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/starting another/);
      expect(plainLines(result.stderr)).toEqual([
        `smkit serve: port ${port} is already in use: stop the process that listens on it, or serve on another port (SAGEMAKER_BIND_TO_PORT)`,
      ]);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  },
  60_000,
);

test('smkit local invoke --body with a missing file: exit 1 and one line naming it', async () => {
  const missing = path.join(base, 'no-such-body.csv');
  const result = await smkit([
    'local',
    'invoke',
    '--endpoint',
    'http://127.0.0.1:9',
    '--content-type',
    'text/csv',
    '--body',
    missing,
  ]);
  expect(result.code).toBe(1);
  expect(plainLines(result.stderr)).toEqual([
    `smkit local invoke: cannot read --body ${missing}: no such file`,
  ]);
}, 60_000);
