import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PYTHON_FIXTURES, type PythonRecord, pythonReference } from './python-reference.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Every file under `dir` (relative to the repository) whose name matches `pattern`. */
function sources(dir: string, pattern: RegExp): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => pattern.test(file) && !file.split(path.sep).includes('node_modules'))
    .map((file) => path.join(dir, file));
}

describe('committed Python references', () => {
  const [name] = readdirSync(PYTHON_FIXTURES).filter((file) => file.endsWith('.json'));
  const record = JSON.parse(readFileSync(path.join(PYTHON_FIXTURES, name!), 'utf8')) as PythonRecord;
  const reference = name!.replace(/\.json$/, '');

  test('a record answers only for its own script and input bytes, else names the regeneration script', () => {
    expect(() => pythonReference(reference, `${record.script}\n`, [])).toThrow(
      /was made by another script than this test runs: regenerate with test\/fixtures\/regenerate\.sh/,
    );
    expect(() => pythonReference(reference, record.script, [Uint8Array.of(1)])).toThrow(
      /was made from other input bytes than this test has: regenerate with test\/fixtures\/regenerate\.sh/,
    );
    expect(() => pythonReference('no-such-reference', 'print(1)', [])).toThrow(
      /no-such-reference\.json cannot be read .*regenerate with test\/fixtures\/regenerate\.sh/,
    );
  });

  test('no unit test runs Python itself: only scripts/record-python-reference.ts does, when recording', () => {
    const unit = [
      ...sources('test', /\.ts$/).filter((file) => !file.startsWith(path.join('test', 'system'))),
      ...sources('algorithms', /\.test\.ts$/),
      ...sources('src', /\.test\.ts$/),
    ].filter((file) => file !== 'test/helpers/python-reference.test.ts');
    expect(unit.length).toBeGreaterThan(50);
    // Debian's interpreter (scikit-learn, onnx), a bare python3 spawn, or the ONNX fixture script. (Script
    // mode's own tests run user train.py files through smkit: those need no Python packages.)
    const runsPython = /\/usr\/bin\/python|['"`]python3?['"`]|make-onnx\.py['"`]|\bPYTHON\b/;
    expect(unit.filter((file) => runsPython.test(readFileSync(path.join(root, file), 'utf8')))).toEqual([]);
  });
});
