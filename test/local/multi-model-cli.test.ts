import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/net.js';
import { kmeansFiles } from '../serve/multi-model/fixtures.js';

const CLI = path.resolve('test/train/fixtures/smkit-cli.ts');
const NODE_CLI = [process.execPath, '--import', 'tsx', CLI];
const K_JSON = '{"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 17.124544143676758}]}';

let dir: string;
let server: ChildProcess | undefined;
let stderr = '';
let url: string;

function smkit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, ...rest] = [...NODE_CLI, ...args];
  return new Promise((resolve) => {
    execFile(file!, rest, (error, stdout, err) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr: err });
    });
  });
}

async function archive(name: string, files: Record<string, Uint8Array>): Promise<void> {
  const src = path.join(dir, 'src', name);
  await mkdir(src, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(src, file), bytes);
  await tar.c({ gzip: true, file: path.join(dir, 'models', name), cwd: src }, Object.keys(files));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-mme-cli-'));
  await mkdir(path.join(dir, 'models'));
  for (const name of ['a.tar.gz', 'b.tar.gz', 'c.tar.gz']) await archive(name, kmeansFiles());
  await archive('empty.tar.gz', { 'README.txt': Buffer.from('no model here') });
  await writeFile(path.join(dir, 'row.csv'), '1.5,16.0,14.0,23.0');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const [file, ...rest] = NODE_CLI;
  // Room for two k-means models (160 KiB + their bytes each), so a third unloads the least recently used.
  const args = ['local', 'serve', '--multi-model', path.join(dir, 'models'), '--port', String(port)];
  server = spawn(file!, [...rest, ...args, '--env', 'SMKIT_MULTI_MODEL_MEMORY_MB=0.35'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let stdout = '';
  server.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  while (!stdout.includes('InService')) {
    if (server.exitCode !== null) throw new Error(`local serve exited: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

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

describe('smkit local serve --multi-model DIR', () => {
  it('loads each TargetModel archive on first use, answers again hot, and unloads under its budget', async () => {
    for (const target of ['a.tar.gz', 'a.tar.gz', 'b.tar.gz', 'c.tar.gz', 'a.tar.gz']) {
      const reply = await invoke(target);
      expect([target, reply.code, reply.stdout]).toEqual([target, 0, K_JSON]);
    }
    expect(stderr).toMatch(/unloaded to make room/);
    expect(stderr.match(/router: loaded a\.tar\.gz/g)).toHaveLength(2); // cold, then again after its eviction
  }, 60_000);

  it('a missing archive, a path outside DIR, an archive without a model and no TargetModel fail with the reason', async () => {
    const missing = await invoke('nope.tar.gz');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/answered 400 .*nope\.tar\.gz does not exist/);
    const outside = await invoke('../row.csv');
    expect(outside.stderr).toMatch(/answered 400 .*is not a path under/);
    const empty = await invoke('empty.tar.gz');
    expect(empty.stderr).toMatch(/answered 400 .*no model found/);
    const none = await smkit([
      'local',
      'invoke',
      '--endpoint',
      url,
      '--content-type',
      'text/csv',
      '--body',
      path.join(dir, 'row.csv'),
    ]);
    expect(none.stderr).toMatch(/answered 400 .*--target-model/);
    expect((await invoke('b.tar.gz')).stdout).toBe(K_JSON);
  }, 60_000);
});
