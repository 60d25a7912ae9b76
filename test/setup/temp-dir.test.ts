import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepStaleTempDirs } from '../../src/util/stale-temp-dirs.js';

/** As test/setup/temp-dir.ts names them (not imported: importing a setup file runs it again). */
const TEST_DIR_PREFIX = 'smkit-test-';

describe('per-test-file temp directory', () => {
  it('points os.tmpdir() of this file and of the processes it starts at a directory of its own', () => {
    const dir = os.tmpdir();
    expect(path.basename(dir).startsWith(`${TEST_DIR_PREFIX}${process.pid}-`)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("os").tmpdir())']);
    expect(child.stdout.toString()).toBe(dir);
  });

  it('sweeps the directories of processes that are gone and keeps those of live ones', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'sweep-'));
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const dead = path.join(parent, `${TEST_DIR_PREFIX}${gone}-abc123`);
    const live = path.join(parent, `${TEST_DIR_PREFIX}${process.pid}-def456`);
    const other = path.join(parent, 'smkit-tar-xyz');
    for (const dir of [dead, live, other]) {
      mkdirSync(path.join(dir, 'model'), { recursive: true });
      writeFileSync(path.join(dir, 'model', 'model.json'), '{}');
    }
    expect(await sweepStaleTempDirs(parent, TEST_DIR_PREFIX)).toEqual([path.basename(dead)]);
    expect([existsSync(dead), existsSync(live), existsSync(other)]).toEqual([false, true, true]);
  });
});
