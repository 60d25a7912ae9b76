import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { ModelHandler } from '../../src/serve/handler.js';
import { listen } from '../../src/serve/listen.js';
import { kmeansModelFile, quietLog, request, settingsFrom } from './helpers.js';

test('stop() lets an in-flight request finish, then refuses new connections', async () => {
  // stop() comes once the request is in the handler (not after a fixed delay, which a loaded machine
  // can outlast before the request even arrives).
  let arrived: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const slow: ModelHandler = {
    kind: 'slow',
    invoke: async () => {
      arrived();
      await new Promise((resolve) => setTimeout(resolve, 400));
      return { body: 'done', contentType: 'text/plain' };
    },
  };
  const app = createApp({ handler: slow, settings: settingsFrom(), log: quietLog });
  const running = await listen(app, { port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${running.port}`;
  const inFlight = request(url, { body: 'x' });
  await inHandler;
  const stopped = running.stop();
  const reply = await inFlight;
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('done');
  await stopped;
  await expect(request(url, { method: 'GET', path: '/ping' })).rejects.toThrow(
    /ECONNREFUSED|ECONNRESET|socket hang up/,
  );
});

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('smkit serve: SAGEMAKER_BASE_DIR/model on SAGEMAKER_BIND_TO_PORT, exits 0 on SIGTERM', async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'smkit-cli-serve-'));
  await mkdir(path.join(base, 'model'));
  await writeFile(path.join(base, 'model', 'model_algo-1'), kmeansModelFile());
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const cli = await import('./src/cli/main.ts'); await cli.main(['node', 'smkit', 'serve']);",
    ],
    {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        ...process.env,
        SAGEMAKER_BASE_DIR: base,
        SAGEMAKER_BIND_TO_PORT: String(port),
        SAGEMAKER_MODEL_SERVER_WORKERS: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    let ping = 0;
    for (let i = 0; i < 900 && ping !== 200; i++) {
      ping = await request(url, { method: 'GET', path: '/ping' }).then(
        (r) => r.status,
        () => 0,
      );
      if (ping !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ping).toBe(200);
    const reply = await request(url, {
      headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
      body: '1,2,3,4',
    });
    expect(reply.text).toBe('2.0,0.0\n');
    const exited = waitForExit(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'loading model',
        'model loaded',
        'listening',
        'stopping: draining in-flight requests',
      ]),
    );
  } finally {
    child.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
  }
}, 120_000);

test('smkit serve with 2 cluster workers: once /ping is 200 it stays 200 (no worker still loading answers)', async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'smkit-cli-serve-'));
  await mkdir(path.join(base, 'model'));
  await writeFile(path.join(base, 'model', 'model_algo-1'), kmeansModelFile());
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/smkit-cli.ts', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      SAGEMAKER_BASE_DIR: base,
      SAGEMAKER_BIND_TO_PORT: String(port),
      SAGEMAKER_MODEL_SERVER_WORKERS: '2',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    const ping = () =>
      request(url, { method: 'GET', path: '/ping', headers: { Connection: 'close' } }).then(
        (r) => r.status,
        () => 0,
      );
    let first = 0;
    for (let i = 0; i < 1200 && first !== 200; i++) {
      first = await ping();
      if (first !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(first).toBe(200);
    // New connections are spread over both workers: every one must now be ready.
    const after = [];
    for (let i = 0; i < 20; i++) after.push(await ping());
    expect(after).toEqual(Array(20).fill(200));
    const exited = waitForExit(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
  }
}, 120_000);
