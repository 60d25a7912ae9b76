/**
 * Reference results from Debian's Python (scikit-learn, numpy, onnx), committed as
 * test/fixtures/python/<name>.json so that unit tests run on a machine without Python packages.
 *
 * A record holds the Python script, the SHA-256 of each input it was run on, and what it printed.
 * A test asks for its reference with the same script and inputs it would have run; when either no
 * longer matches the record, the test fails saying to regenerate (test/fixtures/regenerate.sh), so a
 * record can never silently answer for other data.
 *
 * With SMKIT_FIXTURES=record the script runs live instead (scripts/record-python-reference.ts, loaded
 * only then: nothing here starts Python), and the record is
 * (re)written into SMKIT_FIXTURES_DIR (default: the committed test/fixtures/python). That is how
 * test/fixtures/regenerate.sh makes them, and how test/system/fixtures.test.ts checks the committed
 * ones against live scikit-learn.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The committed records. */
export const PYTHON_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/python');

/** One committed reference result. */
export interface PythonRecord {
  /** The script, run as `python3 -c SCRIPT INPUT...` (inputs are file paths in sys.argv[1:]). */
  readonly script: string;
  /** SHA-256 (hex) of each input file's bytes, in argv order. */
  readonly inputs: readonly string[];
  /** What the script printed on stdout. */
  readonly stdout: string;
}

/** `test/fixtures/regenerate.sh` records (and loads the live runner); anything else reads the committed records. */
const live =
  process.env.SMKIT_FIXTURES === 'record'
    ? await import('../../scripts/record-python-reference.js')
    : undefined;

function recordFile(name: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`python reference name '${name}': use [a-z0-9.-]`);
  return path.join(process.env.SMKIT_FIXTURES_DIR ?? PYTHON_FIXTURES, `${name}.json`);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What `python3 -c script input...` printed: read from the committed record `name`, or run live and
 * recorded under SMKIT_FIXTURES=record. Throws, naming the regeneration script, when the record is
 * missing or was made from another script or other input bytes.
 */
export function pythonReference(name: string, script: string, inputs: readonly Uint8Array[]): string {
  const file = recordFile(name);
  const digests = inputs.map(sha256);
  if (live) {
    const stdout = live.runPythonLive(script, inputs);
    mkdirSync(path.dirname(file), { recursive: true });
    const record: PythonRecord = { script, inputs: digests, stdout };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    return stdout;
  }
  const regenerate = 'regenerate with test/fixtures/regenerate.sh (needs scripts/ci-install.sh)';
  let record: PythonRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PythonRecord;
  } catch (error) {
    throw new Error(`python reference ${file} cannot be read (${(error as Error).message}): ${regenerate}`);
  }
  if (record.script !== script) {
    throw new Error(`python reference ${file} was made by another script than this test runs: ${regenerate}`);
  }
  if (record.inputs.join() !== digests.join()) {
    throw new Error(
      `python reference ${file} was made from other input bytes than this test has: ${regenerate}`,
    );
  }
  return record.stdout;
}
