/**
 * `smkit local transform --model`: the endpoint it starts for itself (the real `smkit serve`) and what
 * the transform asks it for. Batch transform's execution parameters come from the container when no flag
 * sets them, so how the server is started decides how many batches are in flight.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { transformWithModel } from '../../src/local/invoke.js';
import { CASES, CENTROIDS } from '../fixtures/transform/cases.js';

let dir: string;
let model: string;
let input: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-transform-model-'));
  model = path.join(dir, 'model');
  await mkdir(model);
  await writeFile(
    path.join(model, 'model_algo-1'),
    encodeNDArrayList({ arrays: [{ shape: [3, 4], data: new Float32Array(CENTROIDS) }], names: [] }),
  );
  input = path.join(dir, 'in');
  await mkdir(input);
  await writeFile(path.join(input, 'input.csv'), await readFile('test/fixtures/transform/input.csv'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function transform(name: string, env: Record<string, string>, concurrency?: number) {
  const { maxPayloadMb, accept, assembleWith } = CASES['csv-multi']!;
  const output = path.join(dir, `out-${name}`);
  const result = await transformWithModel(
    {
      input,
      output,
      contentType: 'text/csv',
      accept: accept!,
      splitType: 'Line',
      assembleWith: assembleWith!,
      joinSource: 'None',
      maxPayloadMb,
      ...(concurrency !== undefined ? { concurrency } : {}),
    },
    {
      model,
      env,
      smkitCommand: [process.execPath, '--import', 'tsx', path.resolve('test/train/fixtures/smkit-cli.ts')],
      parentEnv: { PATH: process.env.PATH },
    },
  );
  expect(result.failures).toEqual([]);
  return { result, out: await readFile(path.join(output, 'input.csv.out')) };
}

describe('smkit local transform --model', () => {
  it('proposes one transform per core, as a server with a process per core did, and writes the recorded output', async () => {
    const { result, out } = await transform('default', {});
    expect(result.parameters.MaxConcurrentTransforms).toBe(os.availableParallelism());
    expect(result.parameters.source.MaxConcurrentTransforms).toBe('container');
    expect(out.equals(await readFile('test/fixtures/transform/csv-multi.out'))).toBe(true);
  }, 120_000);

  it("keeps the user's server settings: --env SAGEMAKER_MODEL_SERVER_WORKERS, then --concurrency", async () => {
    const workers = await transform('workers', { SAGEMAKER_MODEL_SERVER_WORKERS: '3' });
    // A transform per serving thread: 3 processes x max(1, cores / 3) pool threads.
    expect(workers.result.parameters.MaxConcurrentTransforms).toBe(
      3 * Math.max(1, Math.floor(os.availableParallelism() / 3)),
    );
    const flag = await transform('flag', {}, 1);
    expect(flag.result.parameters.MaxConcurrentTransforms).toBe(1);
    expect(flag.result.parameters.source.MaxConcurrentTransforms).toBe('flag');
    expect(flag.out.equals(workers.out)).toBe(true);
  }, 120_000);
});
