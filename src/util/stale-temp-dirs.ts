import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the directories in `parent` named `<prefix><pid>-<random>` whose process is gone: a process
 * killed with SIGKILL (or by a crash) never reaches its own cleanup. Directories of live processes,
 * and names that do not carry a pid, are left alone. Returns the names deleted.
 */
export async function sweepStaleTempDirs(parent: string, prefix: string): Promise<string[]> {
  const swept: string[] = [];
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    try {
      await rm(path.join(parent, name), { recursive: true, force: true });
      swept.push(name);
    } catch {
      // Another process is sweeping the same directory.
    }
  }
  return swept;
}

/**
 * A new directory `<tmp>/<prefix><pid>-<random>` owned by this process, after sweeping the ones of
 * processes that are gone, so temp trees a killed run left behind do not pile up.
 */
export async function makeOwnedTempDir(prefix: string): Promise<string> {
  const parent = os.tmpdir();
  await sweepStaleTempDirs(parent, prefix);
  return mkdtemp(path.join(parent, `${prefix}${process.pid}-`));
}
