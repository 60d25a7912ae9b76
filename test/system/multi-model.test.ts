/**
 * Multi-model endpoints as separate processes: `smkit serve` with SAGEMAKER_MULTI_MODEL=true raced with
 * parallel loads, invokes and deletes of k-means and ONNX models (its RSS and threads measured from
 * /proc, outside the process), and `smkit local serve --multi-model DIR --image` running the smkit
 * image as the platform runs it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../src/io/http-client.js';
import { freePort } from '../../src/util/net.js';
import { heavyOnnx, kmeansFiles, linearOnnx, writeModel } from '../serve/multi-model/fixtures.js';
import { SMKIT_IMAGE } from './docker-names.js';

const run = promisify(execFile);
const CLI = path.resolve('test/train/fixtures/smkit-cli.ts');
const NODE_CLI = [process.execPath, '--import', 'tsx', CLI];
const ROW = '1.5,16.0,14.0,23.0';
const K_JSON = '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 17.124544143676758}]}';
const MIB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-mme-system-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Resident memory and thread count of a process, read from /proc. */
function usage(pid: number): { rss: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024,
    threads: readdirSync(`/proc/${pid}/task`).length,
  };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

describe('smkit serve, SAGEMAKER_MULTI_MODEL=true, in its own process', () => {
  let server: ChildProcess | undefined;
  afterAll(() => stop(server));

  it('parallel load/invoke/delete of k-means and ONNX models: documented statuses only, memory back after deletes', async () => {
    const base = path.join(dir, 'race');
    const models = path.join(base, 'models');
    const urls = new Map<string, string>();
    for (let i = 0; i < 30; i++) urls.set(`km${i}`, await writeModel(models, `km${i}`, kmeansFiles(i)));
    for (let i = 0; i < 10; i++)
      urls.set(`onnx${i}`, await writeModel(models, `onnx${i}`, { 'model.onnx': linearOnnx(i + 1) }));
    urls.set('heavy', await writeModel(models, 'heavy', { 'model.onnx': heavyOnnx() }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const [file, ...args] = NODE_CLI;
    server = spawn(file!, [...args, 'serve'], {
      env: {
        ...process.env,
        SAGEMAKER_BASE_DIR: base,
        SAGEMAKER_BIND_TO_PORT: String(port),
        SAGEMAKER_MULTI_MODEL: 'true',
        SMKIT_MULTI_MODEL_MEMORY_MB: '1024',
        SAGEMAKER_CONTAINER_LOG_LEVEL: '40',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    while ((await send(`${url}/ping`, { timeoutMs: 2000 }).catch(() => ({ status: 0 }))).status !== 200) {
      if (server.exitCode !== null) throw new Error('smkit serve exited');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pid = server.pid!;
    const names = [...urls.keys()];
    // Explicit: Node's default agent would time out a socket after 5 s without a byte.
    const timeoutMs = 120_000;
    const load = (name: string) =>
      send(`${url}/models`, {
        timeoutMs,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ model_name: name, url: urls.get(name) })),
      });
    const invoke = (name: string) =>
      send(`${url}/models/${name}/invoke`, {
        timeoutMs,
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: Buffer.from(ROW),
      });
    const del = (name: string) => send(`${url}/models/${name}`, { method: 'DELETE', timeoutMs });
    const seen = { load: new Set<number>(), invoke: new Set<number>(), delete: new Set<number>() };
    let peakThreads = 0;
    const round = async (): Promise<void> => {
      await Promise.all(
        names.flatMap((name) => [
          load(name).then((r) => seen.load.add(r.status)),
          invoke(name).then((r) => seen.invoke.add(r.status)),
          del(name).then((r) => seen.delete.add(r.status)),
          load(name).then((r) => seen.load.add(r.status)),
          invoke(name).then((r) => seen.invoke.add(r.status)),
          invoke(name).then((r) => seen.invoke.add(r.status)),
        ]),
      );
      peakThreads = Math.max(peakThreads, usage(pid).threads);
      for (const status of (await Promise.all(names.map(del))).map((r) => r.status)) seen.delete.add(status);
    };
    const settled = async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return usage(pid);
    };
    for (let i = 0; i < 3; i++) await round(); // warm up: codecs, onnxruntime, sockets
    const before = await settled();
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      await round();
      samples.push((await settled()).rss / MIB);
    }
    const after = await settled();

    // 15 rounds load each of 41 models at least 15 times (the 16 MB heavy one included): a copy of the
    // weights kept per load would be 240 MiB and more. RSS after a round bounces by tens of MiB with
    // what was in flight and with the machine's load: +14 to +78 MiB over the 15 rounds have been seen
    // (beside other system tests too), the per-model ONNX sessions before 1bbfdcc +75 to +102 MiB, so
    // the bound is for gross leaks; the thread counts below tell that bug apart (162 threads then).
    const trend = `RSS after each round (MiB): ${samples.map(Math.round).join(', ')}`;
    expect(Math.round((after.rss - before.rss) / MIB), trend).toBeLessThan(160);
    // No thread per model, even with every model loaded and invoked at once.
    expect(peakThreads - before.threads).toBeLessThanOrEqual(4);
    expect(after.threads).toBeLessThanOrEqual(before.threads);
    const statuses = JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])));
    expect(seen.load.has(200), statuses).toBe(true);
    expect(seen.invoke.has(200), statuses).toBe(true);
    for (const status of seen.load) expect([200, 409]).toContain(status);
    for (const status of seen.invoke) expect([200, 404]).toContain(status);
    for (const status of seen.delete) expect([200, 404]).toContain(status);
    expect(JSON.parse((await send(`${url}/models`)).body.toString())).toEqual({ models: [] });
    expect((await send(`${url}/ping`)).status).toBe(200);
  }, 300_000);
});

describe('smkit local serve --multi-model DIR --image (the smkit image)', () => {
  let endpoint: ChildProcess | undefined;
  let logs = '';
  let url: string;
  afterAll(() => stop(endpoint));

  const smkit = (args: string[]) =>
    run(NODE_CLI[0]!, [...NODE_CLI.slice(1), ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout: string; stderr: string }) => ({
        code: error.code ?? 1,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );
  const invoke = (target: string) =>
    smkit([
      'local',
      'invoke',
      '--endpoint',
      url,
      '--target-model',
      target,
      '--content-type',
      'text/csv',
      '--body',
      path.join(dir, 'row.csv'),
    ]);

  it('the image says it serves multiple models', async () => {
    const { stdout } = await run('docker', [
      'image',
      'inspect',
      '--format',
      '{{ index .Config.Labels "com.amazonaws.sagemaker.capabilities.multi-models" }}',
      SMKIT_IMAGE,
    ]);
    expect(stdout.trim()).toBe('true');
  });

  it('loads each TargetModel on first use, answers it hot, and unloads under the container budget', async () => {
    const archives = path.join(dir, 'archives');
    await mkdir(archives);
    for (const [name, files] of [
      ['a.tar.gz', kmeansFiles()],
      ['b.tar.gz', kmeansFiles()],
      ['c.tar.gz', kmeansFiles()],
      ['scorer.tar.gz', { 'model.onnx': linearOnnx() }],
    ] as const) {
      const src = path.join(dir, 'src', name);
      await mkdir(src, { recursive: true });
      for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(src, file), bytes);
      await tar.c({ gzip: true, file: path.join(archives, name), cwd: src }, Object.keys(files));
    }
    await writeFile(path.join(dir, 'row.csv'), ROW);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const [file, ...rest] = NODE_CLI;
    // Room for two k-means models or the ONNX scorer (160 KiB + 3x their bytes each).
    endpoint = spawn(
      file!,
      [
        ...rest,
        ...['local', 'serve', '--multi-model', archives, '--image', SMKIT_IMAGE, '--port', String(port)],
        ...['--env', 'SMKIT_MULTI_MODEL_MEMORY_MB=0.35'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    endpoint.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    endpoint.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    while (!logs.includes('InService')) {
      if (endpoint.exitCode !== null) throw new Error(`local serve exited: ${logs}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const target of ['a.tar.gz', 'a.tar.gz', 'b.tar.gz', 'c.tar.gz', 'a.tar.gz']) {
      const reply = await invoke(target);
      expect([target, reply.code, reply.stdout]).toEqual([target, 0, K_JSON]);
    }
    const scored = await invoke('scorer.tar.gz');
    expect([scored.code, JSON.parse(scored.stdout)]).toEqual([0, { predictions: [{ y: [25, 29.5] }] }]);
    expect(logs).toMatch(/unloaded to make room/);
    expect(logs.match(/router: loaded a\.tar\.gz/g)).toHaveLength(2); // cold, then again after its eviction
    const missing = await invoke('nope.tar.gz');
    expect([missing.code, missing.stderr]).toEqual([
      1,
      expect.stringMatching(/answered 400 .*nope\.tar\.gz/),
    ]);
    expect((await invoke('b.tar.gz')).stdout).toBe(K_JSON);
  }, 600_000);
});
