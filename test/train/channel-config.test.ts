import { describe, expect, test } from 'vitest';
import { createJobTree, readFailure, runJob } from './job-tree.js';

describe('inputdataconfig.json rules that SageMaker enforces', () => {
  test('CompressionType Gzip in File mode fails the job as CreateTrainingJob refuses it', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2' },
      inputDataConfig: {
        train: { TrainingInputMode: 'File', ContentType: 'text/csv', CompressionType: 'Gzip' },
      },
      data: { 'train/a.csv': '1,2\n3,4\n5,6\n' },
    });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `${paths.inputDataConfig} is invalid: train.CompressionType: CompressionType Gzip is used only in ` +
        'Pipe mode: SageMaker refuses it for File and FastFile mode (File mode only supports None); ' +
        'decompress the files, or use TrainingInputMode Pipe\n',
    );
  });
});
