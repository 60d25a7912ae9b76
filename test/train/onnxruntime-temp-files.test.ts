import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createJobTree, startSmkitTrain } from './job-tree.js';

describe('onnxruntime leaves nothing behind', () => {
  test('a PCA job (onnxruntime kernel) writes no mat-debug-PID.log or .ses files to the temp dir', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'smkit-ort-tmp-'));
    const paths = await createJobTree({
      hyperparameters: {
        smkit_algorithm: 'pca',
        num_components: '1',
        feature_dim: '2',
        mini_batch_size: '10',
      },
      inputDataConfig: { train: { ContentType: 'text/csv' } },
      data: { 'train/a.csv': '1,2\n2,4.1\n3,6.2\n4,7.9\n' },
    });
    const run = startSmkitTrain(paths, { TMPDIR: tmp });
    expect(await run.exited, run.stderr()).toBe(0);
    expect(await readdir(paths.model)).not.toEqual([]);
    // tsx keeps its cache (tsx-0) there; onnxruntime's telemetry left mat-debug-PID.log and .ses.
    expect((await readdir(tmp)).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
  });
});
