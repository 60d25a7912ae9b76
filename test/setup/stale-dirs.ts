import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Per-test-file temp directories are named `<prefix><pid>-<random>` after the test process. */
export const TEST_DIR_PREFIX = 'smkit-test-';

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
 * Deletes the per-test-file temp directories in `parent` whose test process is gone (a worker killed
 * by a timeout, or a run stopped with SIGKILL never reached its cleanup). Returns the names deleted.
 */
export function sweepStaleTestDirs(parent: string): string[] {
  const swept: string[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(TEST_DIR_PREFIX)) continue;
    const pid = Number(name.slice(TEST_DIR_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    try {
      rmSync(path.join(parent, name), { recursive: true, force: true });
      swept.push(name);
    } catch {
      // Another test process is sweeping the same directory.
    }
  }
  return swept;
}
