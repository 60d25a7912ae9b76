import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dryRunRequests, inputOf, smkit } from './jobs-cli.js';

// A job proven with `smkit local train` runs on SageMaker by changing the word `local`: the same flags
// give the same hyperparameters, channels, host count and metric definitions.

const CLI = path.resolve('test/support/smkit-cli.ts');
const AWS = [
  '--image',
  '123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit:1',
  '--role',
  'arn:aws:iam::123456789012:role/SageMakerRole',
  '--instance-type',
  'ml.m5.large',
  '--region',
  'us-east-1',
  '--output',
  's3://out-bucket/',
  '--dry-run',
];

interface LocalResult {
  readonly status: string;
  readonly failureReason?: string;
  readonly metrics: readonly { name: string; last: number }[];
  readonly trees: string;
}

function localTrain(flags: readonly string[], output: string): Promise<LocalResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, 'local', 'train', ...flags, '--output', output, '--keep', '--json'],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && !stdout) reject(new Error(`smkit local train failed: ${stderr}`));
        else resolve(JSON.parse(stdout) as LocalResult);
      },
    );
  });
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

/** inputdataconfig.json as the container would see it on SageMaker, from the CreateTrainingJob channels. */
function containerChannels(job: CreateTrainingJobCommandInput): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const channel of job.InputDataConfig ?? []) {
    config[channel.ChannelName!] = {
      ...(channel.ContentType ? { ContentType: channel.ContentType } : {}),
      TrainingInputMode: channel.InputMode ?? job.AlgorithmSpecification?.TrainingInputMode,
      S3DistributionType: channel.DataSource?.S3DataSource?.S3DataDistributionType,
      RecordWrapperType: channel.RecordWrapperType,
      ...(channel.CompressionType && channel.CompressionType !== 'None'
        ? { CompressionType: channel.CompressionType }
        : {}),
    };
  }
  return config;
}

let dir: string;
let data: string;
let code: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-parity-'));
  data = path.join(dir, 'data');
  await mkdir(data);
  const rows = Array.from({ length: 40 }, (_, i) => (i % 2 ? `${10 + (i % 3)},10` : `${i % 3},0`));
  await writeFile(path.join(data, 'a.csv'), `${rows.slice(0, 20).join('\n')}\n`);
  await writeFile(path.join(data, 'b.csv'), `${rows.slice(20).join('\n')}\n`);
  code = path.join(dir, 'code');
  await mkdir(code);
  await writeFile(path.join(code, 'train.js'), "console.log('loss: 0.25');\nconsole.log('acc=0.75');\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smkit local train and smkit train-job with the same flags', () => {
  test('a built-in on two hosts: same HyperParameters, channels, host count; local metrics are defined', async () => {
    const flags = [
      '--algorithm',
      'kmeans',
      '--hyperparameters',
      'k=2,feature_dim=2,mini_batch_size=10',
      '--channel',
      `train=${data},content-type=text/csv`,
      '--channel',
      `test=${data},content-type=text/csv,distribution=ShardedByS3Key`,
      '--hosts',
      '2',
      '--max-runtime',
      '600',
      '--job-name',
      'parity-kmeans',
    ];
    const local = await localTrain(flags, path.join(dir, 'out-kmeans'));
    expect(local.status, local.failureReason).toBe('Completed');
    const job = inputOf<CreateTrainingJobCommandInput>(
      dryRunRequests(await smkit(['train-job', ...flags, ...AWS])),
      'CreateTrainingJob',
    );
    const host = path.join(local.trees, 'algo-1', 'input', 'config');
    expect(job.HyperParameters).toEqual(await readJson(path.join(host, 'hyperparameters.json')));
    expect(containerChannels(job)).toEqual(await readJson(path.join(host, 'inputdataconfig.json')));
    const resources = (await readJson(path.join(host, 'resourceconfig.json'))) as { hosts: string[] };
    expect(job.ResourceConfig?.InstanceCount).toBe(resources.hosts.length);
    expect(job.StoppingCondition?.MaxRuntimeInSeconds).toBe(600);
    // Every metric local mode reported comes from a definition the job sends.
    expect(local.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['train:msd', 'test:msd']));
    const defined = job.AlgorithmSpecification?.MetricDefinitions?.map((d) => d.Name) ?? [];
    for (const metric of local.metrics) expect(defined).toContain(metric.name);
    await rm(local.trees, { recursive: true, force: true });
  }, 180_000);

  test('script mode: the same HyperParameters but the code location, and the same metric definitions', async () => {
    const flags = [
      '--entry-point',
      'train.js',
      '--source-dir',
      code,
      '--hyperparameters',
      'epochs=3,name=abc,flag=True',
      '--metric-definitions',
      'loss=loss: (\\S+);acc=acc=(\\S+)',
      '--channel',
      `train=${data},mode=Pipe`,
      '--job-name',
      'parity-script',
    ];
    const local = await localTrain(flags, path.join(dir, 'out-script'));
    expect(local.status, local.failureReason).toBe('Completed');
    const job = inputOf<CreateTrainingJobCommandInput>(
      dryRunRequests(await smkit(['train-job', ...flags, ...AWS])),
      'CreateTrainingJob',
    );
    const host = path.join(local.trees, 'algo-1', 'input', 'config');
    const localHyperparameters = (await readJson(path.join(host, 'hyperparameters.json'))) as Record<
      string,
      string
    >;
    const { sagemaker_submit_directory: localCode, ...localRest } = localHyperparameters;
    const { sagemaker_submit_directory: awsCode, ...awsRest } = job.HyperParameters!;
    expect(awsRest).toEqual(localRest);
    expect(JSON.parse(localCode!)).toMatch(/\/code$/);
    expect(JSON.parse(awsCode!)).toBe('s3://out-bucket/parity-script/source/sourcedir.tar.gz');
    expect(containerChannels(job)).toEqual(await readJson(path.join(host, 'inputdataconfig.json')));
    expect(local.metrics).toEqual([
      expect.objectContaining({ name: 'loss', last: 0.25 }),
      expect.objectContaining({ name: 'acc', last: 0.75 }),
    ]);
    expect(job.AlgorithmSpecification?.MetricDefinitions).toEqual([
      { Name: 'loss', Regex: 'loss: (\\S+)' },
      { Name: 'acc', Regex: 'acc=(\\S+)' },
    ]);
    await rm(local.trees, { recursive: true, force: true });
  }, 120_000);
});
