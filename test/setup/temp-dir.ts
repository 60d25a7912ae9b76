/**
 * Every test file gets its own temp directory: TMPDIR points there while the file runs (so
 * `os.tmpdir()` in the tests, and in every process they start, lands there), and the directory is
 * deleted when the file ends. Job trees, archives and servers' scratch files left behind by a test
 * (or by a process it killed) go with it: full test runs used to leave hundreds of `smkit-*` trees
 * in /tmp, some of 385 MB, until the disk filled.
 *
 * tsx's transform cache (`tsx-<uid>` under the temp dir) stays shared through a link to the real
 * one, so processes started from sources keep a warm cache. Directories of test processes that
 * died before their cleanup (killed workers) are swept when the next file starts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { sweepStaleTempDirs } from '../../src/util/stale-temp-dirs.js';

/** Per-test-file temp directories: `<prefix><pid>-<random>`, after the test process. */
export const TEST_DIR_PREFIX = 'smkit-test-';

const systemTemp = os.tmpdir();
await sweepStaleTempDirs(systemTemp, TEST_DIR_PREFIX);
const dir = mkdtempSync(path.join(systemTemp, `${TEST_DIR_PREFIX}${process.pid}-`));
// As /tmp itself: processes of other users (non-root tests, containers) create their own entries.
chmodSync(dir, 0o1777);
const uid = process.geteuid?.() ?? os.userInfo().username;
const tsxCache = path.join(systemTemp, `tsx-${uid}`);
mkdirSync(tsxCache, { recursive: true });
symlinkSync(tsxCache, path.join(dir, `tsx-${uid}`));
process.env.TMPDIR = dir;

afterAll(() => {
  process.env.TMPDIR = systemTemp;
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});
