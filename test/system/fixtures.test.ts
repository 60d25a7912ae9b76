/**
 * The committed reference fixtures still are what live scikit-learn, numpy and onnx say: runs
 * test/fixtures/regenerate.sh into a temp dir (make-onnx.py, then the unit tests that use Python
 * references with SMKIT_FIXTURES=record, so those tests also run against the live answers) and
 * compares the result with test/fixtures/onnx and test/fixtures/python: the ONNX models byte for
 * byte, every recorded script and input digest exactly, every number within a tolerance that allows
 * another BLAS or thread count but not another answer. Needs scripts/ci-install.sh (.ci/run runs it).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PythonRecord } from '../helpers/python-reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const committed = path.join(root, 'test/fixtures');

/** Numbers may differ by this much relative to their size, plus ABSOLUTE near zero. */
const RELATIVE = 1e-5;
const ABSOLUTE = 1e-7;

let live = '';
let log = '';

beforeAll(async () => {
  live = await mkdtemp(path.join(os.tmpdir(), 'smkit-fixtures-'));
  // The child vitest must not think it is one of this run's workers.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [path.join(root, 'test/fixtures/regenerate.sh'), live], {
      cwd: root,
      env: { ...env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0)
    throw new Error(`test/fixtures/regenerate.sh ${live} exited with ${code}:\n${log.slice(-6000)}`);
}, 900_000);
afterAll(async () => {
  if (live) await rm(live, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Where `ours` and `theirs` differ beyond the tolerance (JSON values), as readable paths; [] when close. */
function differences(ours: unknown, theirs: unknown, at = '$'): string[] {
  if (typeof ours === 'number' && typeof theirs === 'number') {
    return Math.abs(ours - theirs) <= ABSOLUTE + RELATIVE * Math.abs(theirs)
      ? []
      : [`${at}: ${ours} vs ${theirs}`];
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    if (ours.length !== theirs.length) return [`${at}: length ${ours.length} vs ${theirs.length}`];
    return ours.flatMap((value, i) => differences(value, theirs[i], `${at}[${i}]`));
  }
  if (ours && theirs && typeof ours === 'object' && typeof theirs === 'object') {
    const keys = Object.keys(ours).sort();
    if (keys.join() !== Object.keys(theirs).sort().join())
      return [`${at}: keys ${keys} vs ${Object.keys(theirs)}`];
    return keys.flatMap((key) =>
      differences(
        (ours as Record<string, unknown>)[key],
        (theirs as Record<string, unknown>)[key],
        `${at}.${key}`,
      ),
    );
  }
  return ours === theirs ? [] : [`${at}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`];
}

/** A recorded stdout as JSON when it is JSON (numbers compared with tolerance), else the text itself. */
function parsed(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return stdout;
  }
}

describe('committed reference fixtures against live scikit-learn, numpy and onnx', () => {
  test('test/fixtures/onnx: the same files; the models byte for byte; expected.json within tolerance', async () => {
    const files = await filesUnder(path.join(committed, 'onnx'));
    expect(files).toContain('linear/model.onnx');
    expect(await filesUnder(path.join(live, 'onnx'))).toEqual(files);
    for (const file of files.filter((name) => name.endsWith('.onnx'))) {
      const ours = await readFile(path.join(committed, 'onnx', file));
      const theirs = await readFile(path.join(live, 'onnx', file));
      expect(ours.equals(theirs), `${file} differs from what make-onnx.py writes now`).toBe(true);
    }
    const expected = async (dir: string) =>
      JSON.parse(await readFile(path.join(dir, 'onnx/expected.json'), 'utf8'));
    expect(differences(await expected(committed), await expected(live))).toEqual([]);
  });

  test('test/fixtures/python: the same records, scripts and input digests; outputs within tolerance', async () => {
    const names = await filesUnder(path.join(committed, 'python'));
    expect(names.length).toBeGreaterThanOrEqual(6);
    expect(await filesUnder(path.join(live, 'python'))).toEqual(names);
    for (const name of names) {
      const read = async (dir: string) =>
        JSON.parse(await readFile(path.join(dir, 'python', name), 'utf8')) as PythonRecord;
      const [ours, theirs] = [await read(committed), await read(live)];
      expect([ours.script, ours.inputs], name).toEqual([theirs.script, theirs.inputs]);
      expect(differences(parsed(ours.stdout), parsed(theirs.stdout)), name).toEqual([]);
    }
  });
});
