import { readdir } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { createJobTree, readFailure, runJob } from './job-tree.js';

// Two well separated clusters, exact enough for k=2 and for one principal component.
const CSV = Array.from({ length: 40 }, (_, i) =>
  i % 2 ? `${10 + (i % 3) * 0.1},10` : `${(i % 3) * 0.1},0`,
).join('\n');

describe('built-in algorithms through the runner', () => {
  test.each([
    ['kmeans', { k: '2', feature_dim: '2', mini_batch_size: '10' }],
    ['pca', { num_components: '1', feature_dim: '2', mini_batch_size: '10' }],
  ])('%s on a CSV channel writes SageMaker model files and exits 0', async (algorithm, hyperparameters) => {
    const paths = await createJobTree({
      hyperparameters,
      inputDataConfig: { train: { ContentType: 'text/csv', TrainingInputMode: 'File' } },
      data: { 'train/part-0.csv': `${CSV}\n` },
    });
    expect(await runJob(paths, { SMKIT_ALGORITHM: algorithm })).toBe(0);
    expect(await readdir(paths.model)).toContain('model_algo-1');
    expect(await readFailure(paths)).toBeUndefined();
  });

  test('a CSV row of the wrong width fails naming the file and line; the model dir stays empty', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2', mini_batch_size: '10' },
      inputDataConfig: { train: { ContentType: 'text/csv' } },
      data: { 'train/part-0.csv': '1,2\n3,4\n5,6,7\n' },
    });
    expect(await runJob(paths)).toBe(1);
    const failure = (await readFailure(paths))!;
    expect(failure.split('\n')[0]).toMatch(/part-0\.csv.*line 3/);
    expect(await readdir(paths.model)).toEqual([]);
  });

  test('an unknown ContentType fails before training, naming the channel', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2' },
      inputDataConfig: { train: { ContentType: 'application/x-parquet' } },
      data: { 'train/part-0.parquet': 'PAR1' },
    });
    expect(await runJob(paths)).toBe(1);
    expect((await readFailure(paths))!.split('\n')[0]).toMatch(/train.*application\/x-parquet/);
    expect(await readdir(paths.model)).toEqual([]);
  });
});
