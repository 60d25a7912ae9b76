import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { createJobTree, readFailure, startSmkitTrain } from './job-tree.js';

describe('Pipe mode and SIGTERM', () => {
  test('a job waiting for a FIFO that never appears exits on SIGTERM at once', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2' },
      inputDataConfig: { train: { TrainingInputMode: 'Pipe', ContentType: 'text/csv' } },
    });
    const run = startSmkitTrain(paths);
    try {
      // The algorithm has started; it opens the channel next and waits for train_0 (600 s by default).
      while (!run.stderr().includes('"msg":"training"')) await sleep(50);
      await sleep(500);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(143);
      expect(await readFailure(paths)).toBe(
        `training stopped by SIGTERM: Pipe-mode channel 'train': stopped while waiting for the FIFO ${paths.inputData}/train_0\n`,
      );
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
