/** Test fixtures for the model handlers: ONNX models written by Debian's python3-onnx, once per test file. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Inputs and the outputs numpy computed for them, per fixture model. */
export type Expected = Record<
  string,
  { inputs: Record<string, number[][]>; outputs: Record<string, number[] | number[][]> }
>;

/** The fixture models under `dir/<name>/model.onnx`: linear, mlp, trees, trees-zipmap, mixed. */
export interface OnnxFixtures {
  readonly dir: string;
  readonly expected: Expected;
  remove(): Promise<void>;
}

const SCRIPT = path.join(import.meta.dirname, '../../fixtures/make-onnx.py');

/** Generates the ONNX fixtures into a fresh temp dir (about 0.3 s). */
export async function makeOnnxFixtures(): Promise<OnnxFixtures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-onnx-'));
  await promisify(execFile)('/usr/bin/python3', [SCRIPT, dir]);
  const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  return { dir, expected, remove: () => rm(dir, { recursive: true, force: true }) };
}
