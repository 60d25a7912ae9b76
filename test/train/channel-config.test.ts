import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createJobTree, readFailure, runJob } from './job-tree.js';

describe('job config and channel data mistakes fail with what to fix', () => {
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

  test("more than 100 hyperparameters: one line naming SageMaker's limit, not the list", async () => {
    const hyperparameters: Record<string, string> = { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2' };
    for (let i = 0; i < 100; i++) hyperparameters[`unused_parameter_${i}`] = '1';
    const paths = await createJobTree({ hyperparameters });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `${paths.hyperparameters} is invalid: (root): 103 hyperparameters, but SageMaker allows at most 100 ` +
        "per training job (CreateTrainingJob refuses more; the SDK's sagemaker_* entries count): drop 3 or more\n",
    );
  });

  test('a hyperparameters.json that is not an object says what it must hold', async () => {
    const paths = await createJobTree({});
    await writeFile(paths.hyperparameters, '["k", "10"]');
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `${paths.hyperparameters} is invalid: (root): expected a JSON object of hyperparameter names to ` +
        'string values, as {"k": "10"}; got an array\n',
    );
  });

  test('an invalid channel name is named with the pattern it breaks', async () => {
    const paths = await createJobTree({ inputDataConfig: { 'train data': { ContentType: 'text/csv' } } });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `${paths.inputDataConfig} is invalid: (root): channel name 'train data' is invalid: channel names ` +
        "are 1 to 64 letters, digits, '.', '-' or '_' ([A-Za-z0-9.-_]{1,64})\n",
    );
  });

  test.each([
    [
      'RecordIO',
      Buffer.from([0x0a, 0x23, 0xd7, 0xce, 4, 0, 0, 0, 1, 2, 3, 4]),
      "starts with the RecordIO magic (0a 23 d7 ce), so it is RecordIO, not CSV: check the channel's " +
        'ContentType; for RecordIO-protobuf data use application/x-recordio-protobuf',
    ],
    [
      'binary',
      Buffer.from([0x31, 0x2c, 0x00, 0x01, 0x02, 0x0a]),
      "looks binary, not CSV text (byte 0x00 at offset 2): check the channel's ContentType (text/csv says " +
        'comma-separated numbers); for RecordIO-protobuf data use application/x-recordio-protobuf',
    ],
  ])('%s data declared as CSV says to check ContentType', async (_what, bytes, message) => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '2', feature_dim: '2' },
      inputDataConfig: { train: { ContentType: 'text/csv' } },
    });
    const file = path.join(paths.inputData, 'train', 'part-0');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(`${file} ${message}\n`);
  });
});
