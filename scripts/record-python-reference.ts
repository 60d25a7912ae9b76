/**
 * The live half of test/helpers/python-reference.ts: runs a reference script under Debian's Python
 * (scikit-learn, numpy, onnx: `bash scripts/ci-install.sh`). Loaded only when the unit tests run with
 * SMKIT_FIXTURES=record (test/fixtures/regenerate.sh, test/system/fixtures.test.ts), so that unit tests
 * themselves never start Python.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's Python with scikit-learn and onnx. */
const PYTHON = '/usr/bin/python3';

/** Runs `python3 -c script` with each input written to a temp file (sys.argv[1:]) and returns stdout. */
export function runPythonLive(script: string, inputs: readonly Uint8Array[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smkit-python-'));
  try {
    const files = inputs.map((bytes, i) => {
      const file = path.join(dir, `input-${i}`);
      writeFileSync(file, bytes);
      return file;
    });
    return execFileSync(PYTHON, ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
