/** The memory a multi-model endpoint may fill with models, from the container's limit. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

/** cgroup v1 writes a huge number (about 2^63) when there is no limit. */
const NO_LIMIT_V1 = 2 ** 60;

/** Share of the container's limit the models may hold; the rest is node, requests and headroom. */
export const DEFAULT_BUDGET_SHARE = 0.7;

async function readNumber(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (text === 'max') return undefined;
    const value = Number(text);
    return Number.isFinite(value) && value > 0 && value < NO_LIMIT_V1 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The container's memory limit in bytes: cgroup v2 `memory.max`, else cgroup v1
 * `memory.limit_in_bytes`, else the machine's memory (`os.totalmem`), whichever is found first.
 * @example await containerMemoryLimit() // 2147483648 in a container started with --memory 2g
 */
export async function containerMemoryLimit(cgroupRoot = '/sys/fs/cgroup'): Promise<number> {
  return (
    (await readNumber(`${cgroupRoot}/memory.max`)) ??
    (await readNumber(`${cgroupRoot}/memory/memory.limit_in_bytes`)) ??
    os.totalmem()
  );
}

/** The budget for loaded models: the setting when given, else `DEFAULT_BUDGET_SHARE` of the limit. */
export async function modelMemoryBudget(configured: number | undefined): Promise<number> {
  if (configured !== undefined) return configured;
  return Math.floor((await containerMemoryLimit()) * DEFAULT_BUDGET_SHARE);
}
