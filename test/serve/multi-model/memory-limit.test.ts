import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { containerMemoryLimit, modelMemoryBudget } from '../../../src/serve/multi-model/memory-limit.js';

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

async function cgroup(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'smkit-cgroup-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}

test('the limit comes from cgroup v2 memory.max, then v1 limit_in_bytes, then the machine', async () => {
  expect(await containerMemoryLimit(await cgroup({ 'memory.max': '2147483648\n' }))).toBe(2147483648);
  const v1 = await cgroup({ 'memory.max': 'max\n', 'memory/memory.limit_in_bytes': '1073741824\n' });
  expect(await containerMemoryLimit(v1)).toBe(1073741824);
  const unlimited = await cgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' });
  expect(await containerMemoryLimit(unlimited)).toBe(os.totalmem());
  expect(await containerMemoryLimit(path.join(os.tmpdir(), 'no-such-cgroup'))).toBe(os.totalmem());
});

test('SMKIT_MULTI_MODEL_MEMORY_MB wins over the default share of the limit', async () => {
  expect(await modelMemoryBudget(5 * 1024 * 1024)).toBe(5 * 1024 * 1024);
  expect(await modelMemoryBudget(undefined)).toBeGreaterThan(0);
});
