/**
 * Test fixtures for the model handlers: the ONNX models test/fixtures/make-onnx.py wrote with Debian's
 * python3-onnx, committed under test/fixtures/onnx (test/fixtures/regenerate.sh remakes them;
 * test/system/fixtures.test.ts checks them against a live run).
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

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

/** The committed models and expected.json. */
export const ONNX_FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/onnx');

/** A private copy of the committed ONNX fixtures in a fresh temp dir (tests may add files beside them). */
export async function makeOnnxFixtures(): Promise<OnnxFixtures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-onnx-'));
  await cp(ONNX_FIXTURES, dir, { recursive: true });
  const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  return { dir, expected, remove: () => rm(dir, { recursive: true, force: true }) };
}
