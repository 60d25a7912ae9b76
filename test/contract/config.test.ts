import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readTrainingConfig } from '../../src/contract/config.js';
import { readServingSettings, readTrainingSettings } from '../../src/contract/env.js';
import { resolvePaths } from '../../src/contract/paths.js';

async function jobTree(files: Record<string, string>) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'smkit-config-'));
  const paths = resolvePaths(base);
  await mkdir(paths.inputConfig, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(paths.inputConfig, name), text);
  return paths;
}

describe('resolvePaths', () => {
  test('roots every path at the base dir', () => {
    const paths = resolvePaths('/tmp/job');
    expect(paths.hyperparameters).toBe('/tmp/job/input/config/hyperparameters.json');
    expect(paths.failure).toBe('/tmp/job/output/failure');
    expect(paths.model).toBe('/tmp/job/model');
    expect(Object.isFrozen(paths)).toBe(true);
  });

  test('defaults to /opt/ml', () => {
    expect(resolvePaths().base).toBe('/opt/ml');
  });
});

describe('readTrainingConfig', () => {
  test('reads all four files as SageMaker writes them', async () => {
    const paths = await jobTree({
      'hyperparameters.json': JSON.stringify({ k: '3', feature_dim: '4' }),
      'inputdataconfig.json': JSON.stringify({
        train: { TrainingInputMode: 'Pipe', S3DistributionType: 'ShardedByS3Key', RecordWrapperType: 'None' },
        test: {
          ContentType: 'text/csv',
          TrainingInputMode: 'File',
          S3DistributionType: 'FullyReplicated',
          RecordWrapperType: 'None',
        },
      }),
      'resourceconfig.json': JSON.stringify({
        current_host: 'algo-2',
        hosts: ['algo-1', 'algo-2'],
        network_interface_name: 'eth1',
      }),
      'checkpointconfig.json': JSON.stringify({ LocalPath: '/opt/ml/checkpoints', S3Uri: 's3://b/ck' }),
    });
    const config = await readTrainingConfig(paths);
    expect(config.hyperparameters).toEqual({ k: '3', feature_dim: '4' });
    expect(config.inputDataConfig.train?.TrainingInputMode).toBe('Pipe');
    expect(config.inputDataConfig.test?.ContentType).toBe('text/csv');
    expect(config.resourceConfig.hosts).toEqual(['algo-1', 'algo-2']);
    expect(config.checkpointConfig?.S3Uri).toBe('s3://b/ck');
    expect(Object.isFrozen(config.resourceConfig.hosts)).toBe(true);
  });

  test('missing files mean no hyperparameters, no channels, one host, no checkpoints', async () => {
    const config = await readTrainingConfig(await jobTree({}));
    expect(config).toEqual({
      hyperparameters: {},
      inputDataConfig: {},
      resourceConfig: { current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' },
      checkpointConfig: undefined,
    });
  });

  test('accepts numbers and booleans in hyperparameters.json as strings', async () => {
    const config = await readTrainingConfig(await jobTree({ 'hyperparameters.json': '{"k": 3, "x": true}' }));
    expect(config.hyperparameters).toEqual({ k: '3', x: 'true' });
  });

  test('malformed JSON names the file', async () => {
    const paths = await jobTree({ 'hyperparameters.json': '{"k": ' });
    await expect(readTrainingConfig(paths)).rejects.toThrow(`${paths.hyperparameters} is not valid JSON`);
  });

  test('a bad input mode names the channel and the allowed values', async () => {
    const paths = await jobTree({ 'inputdataconfig.json': '{"train": {"TrainingInputMode": "Stream"}}' });
    await expect(readTrainingConfig(paths)).rejects.toThrow(
      /inputdataconfig\.json is invalid: train\.TrainingInputMode: .*File/,
    );
  });

  test('current_host must be one of hosts', async () => {
    const paths = await jobTree({ 'resourceconfig.json': '{"current_host": "algo-3", "hosts": ["algo-1"]}' });
    await expect(readTrainingConfig(paths)).rejects.toThrow('current_host must be one of hosts');
  });
});

describe('settings from the environment', () => {
  test('training defaults', () => {
    const settings = readTrainingSettings({});
    expect(settings.baseDir).toBe('/opt/ml');
    expect(settings.pipeWaitSeconds).toBe(600);
    expect(settings.logLevel).toBe(20);
  });

  test('serving reads every SageMaker spelling', () => {
    const settings = readServingSettings({
      SAGEMAKER_BIND_TO_PORT: '9000',
      MODEL_SERVER_WORKERS: '3',
      SAGEMAKER_MODEL_SERVER_TIMEOUT: '5',
      SAGEMAKER_MAX_PAYLOAD_IN_MB: '1',
      SAGEMAKER_BATCH: 'true',
      SAGEMAKER_BATCH_STRATEGY: 'MultiRecord',
    });
    expect(settings).toMatchObject({
      port: 9000,
      workers: 3,
      timeoutSeconds: 5,
      maxPayloadBytes: 1024 * 1024,
      batch: true,
      batchStrategy: 'MultiRecord',
      defaultAccept: 'application/json',
    });
  });

  test('a batch transform container serves in one process unless MODEL_SERVER_WORKERS says otherwise', () => {
    expect(readServingSettings({ SAGEMAKER_BATCH: 'true' }).workers).toBe(1);
    expect(readServingSettings({ SAGEMAKER_BATCH: 'true', MODEL_SERVER_WORKERS: '3' }).workers).toBe(3);
    expect(readServingSettings({}).workers).toBe(os.availableParallelism());
  });

  test('SAGEMAKER_BATCH_STRATEGY in either spelling, and a clear error for anything else', () => {
    for (const [text, strategy] of [
      ['SINGLE_RECORD', 'SingleRecord'],
      ['single_record', 'SingleRecord'],
      ['MULTI_RECORD', 'MultiRecord'],
    ]) {
      expect(readServingSettings({ SAGEMAKER_BATCH_STRATEGY: text }).batchStrategy).toBe(strategy);
    }
    expect(() => readServingSettings({ SAGEMAKER_BATCH_STRATEGY: 'BATCH' })).toThrow(
      "SAGEMAKER_BATCH_STRATEGY='BATCH' is invalid: expected MULTI_RECORD or SINGLE_RECORD",
    );
  });

  test('SMKIT_HOST_ADDRESSES as local mode writes it: host -> IP', () => {
    expect(readTrainingSettings({}).hostAddresses).toBeUndefined();
    expect(
      readTrainingSettings({ SMKIT_HOST_ADDRESSES: 'algo-1=127.0.0.2,algo-2=127.0.0.3,algo-3=::1' })
        .hostAddresses,
    ).toEqual({ 'algo-1': '127.0.0.2', 'algo-2': '127.0.0.3', 'algo-3': '::1' });
  });

  test.each([
    ['algo-1:127.0.0.2', "'algo-1:127.0.0.2' is not HOST=IP"],
    ['algo-1=127.0.0.2,', "'' is not HOST=IP"],
    ['algo-1=localhost', "'localhost' (host algo-1) is not an IPv4 or IPv6 address"],
    ['algo-1=127.0.0.2,algo-1=127.0.0.3', 'host algo-1 appears twice'],
  ])('a bad SMKIT_HOST_ADDRESSES %s names the variable and the problem', (value, problem) => {
    expect(() => readTrainingSettings({ SMKIT_HOST_ADDRESSES: value })).toThrow(
      `SMKIT_HOST_ADDRESSES='${value}' is invalid: ${problem}; expected HOST=IP pairs separated by commas, as in algo-1=127.0.0.2,algo-2=127.0.0.3`,
    );
  });

  test('a bad port says which variable', () => {
    expect(() => readServingSettings({ SAGEMAKER_BIND_TO_PORT: 'x' })).toThrow();
  });
});
