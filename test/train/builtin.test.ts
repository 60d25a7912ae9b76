import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { SageMakerPaths } from '../../src/contract/index.js';
import { algorithmHyperparameters } from '../../src/train/builtin.js';
import { testAlgorithms } from './fixtures/test-algorithms.js';
import { createJobTree, readFailure, runJob, startSmkitTrain, waitForFile } from './job-tree.js';

/** Runs a job in this process with the test algorithms next to the built-ins. */
const runTestJob = (paths: SageMakerPaths, env: Record<string, string> = {}) =>
  runJob(paths, env, testAlgorithms);

describe('built-in algorithms', { timeout: 120_000 }, () => {
  test('train with hyperparameters stripped of platform keys; the model lands in the model dir', async () => {
    const paths = await createJobTree({
      hyperparameters: {
        smkit_algorithm: 'test-echo',
        k: '"3"',
        _tuning_objective_metric: 'test:msd',
        sagemaker_estimator_class_name: 'KMeans',
      },
    });
    expect(await runTestJob(paths)).toBe(0);
    expect((await readdir(paths.model)).sort()).toEqual(['model.json', 'partial', 'sub']);
    expect(JSON.parse(await readFile(path.join(paths.model, 'model.json'), 'utf8'))).toEqual({
      k: 3,
      fail: 'none',
    });
    expect(await readFile(path.join(paths.model, 'sub/leaf'), 'utf8')).toBe(paths.checkpoints);
    expect(await readFailure(paths)).toBeUndefined();
  });

  test('SMKIT_ALGORITHM baked into the image makes SageMaker hyperparameters alone a drop-in job', async () => {
    const paths = await createJobTree({ hyperparameters: { k: '2' } });
    expect(await runTestJob(paths, { SMKIT_ALGORITHM: 'test-echo' })).toBe(0);
    expect(await readFile(path.join(paths.model, 'model.json'), 'utf8')).toBe('{"k":2,"fail":"none"}');
  });

  test('invalid hyperparameters fail naming the key and the value; nothing reaches the model dir', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'test-echo', k: 'three', extra: '1' },
    });
    expect(await runTestJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      "invalid hyperparameters for test-echo: hyperparameter 'k': k must be an integer >= 1 (got 'three'); unknown hyperparameter(s) extra\n",
    );
    expect(await readdir(paths.model)).toEqual([]);
  });

  test("a built-in's hyperparameter message names the value once (issue 13: PCA said (got '0') twice)", async () => {
    const paths = await createJobTree({
      hyperparameters: {
        smkit_algorithm: 'pca',
        feature_dim: '0',
        mini_batch_size: '10',
        num_components: '1',
      },
    });
    expect(await runTestJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      "invalid hyperparameters for pca: feature_dim must be an integer >= 1 (got '0')\n",
    );
  });

  test('an InputError becomes the failure text as it is; the partial model is discarded', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'test-echo', k: '3', fail: 'input' },
    });
    expect(await runTestJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe('train/data.csv line 3: expected 4 columns, got 3\n');
    expect(await readdir(paths.model)).toEqual([]);
  });

  test('an unexpected error starts with its message, then the stack', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'test-echo', k: '3', fail: 'crash' },
    });
    expect(await runTestJob(paths)).toBe(1);
    const failure = (await readFailure(paths))!;
    expect(failure).toMatch(/^Unexpected error: TypeError: cannot read properties of undefined\n\s+at /);
    expect(await readdir(paths.model)).toEqual([]);
  });

  test('metric lines go to stdout and JSON logs to stderr', async () => {
    const paths = await createJobTree({ hyperparameters: { smkit_algorithm: 'test-echo', k: '4' } });
    const run = startSmkitTrain(paths, {}, 'smkit-cli-test-algorithms.ts');
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stdout()).toBe('#quality_metric: host=algo-1, train k=4\n');
    const logs = run
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(logs.map((entry) => entry.msg)).toContain('training complete');
  });

  test('SIGTERM aborts the context signal; the checkpoint and what the algorithm saved are kept', async () => {
    const paths = await createJobTree({ hyperparameters: { smkit_algorithm: 'test-wait' } });
    const run = startSmkitTrain(paths, {}, 'smkit-cli-test-algorithms.ts');
    await waitForFile(path.join(paths.outputData, 'ready'));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(await readFile(path.join(paths.checkpoints, 'ckpt'), 'utf8')).toBe('stopped by SIGTERM');
    expect(await readFile(path.join(paths.model, 'model.json'), 'utf8')).toBe('{"partial":true}');
    expect(await readFailure(paths)).toMatch(/^training stopped by SIGTERM .*checkpoints are in /);
  });
});

describe('algorithmHyperparameters', () => {
  test('drops _*, sagemaker_* and smkit_* keys and unquotes JSON strings only', () => {
    expect(
      algorithmHyperparameters({
        _tuning_objective_metric: 'x',
        sagemaker_program: 'y',
        smkit_algorithm: 'kmeans',
        k: '"10"',
        init_method: 'kmeans++',
        half: '"abc',
        flag: 'True',
      }),
    ).toEqual({ k: '10', init_method: 'kmeans++', half: '"abc', flag: 'True' });
  });
});
