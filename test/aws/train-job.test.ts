import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kmeans as kmeansAlgorithm } from '../../algorithms/kmeans/index.js';
import { dryRunRequests, inputOf, isolatedEnv, smkit } from './jobs-cli.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit-kmeans:1.0';
const ROLE = 'arn:aws:iam::123456789012:role/service-role/SageMakerRole';
const AWS = ['--image', IMAGE, '--role', ROLE, '--instance-type', 'ml.m5.large', '--region', 'us-east-1'];

let dir: string;
let train: string;
let code: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-train-job-'));
  train = path.join(dir, 'train');
  await mkdir(path.join(train, 'part'), { recursive: true });
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 2 ? 10 + (i % 3) : i % 3},${i % 2 ? 10 : 0}`);
  await writeFile(path.join(train, 'a.csv'), `${rows.slice(0, 20).join('\n')}\n`);
  await writeFile(path.join(train, 'part', 'b.csv'), `${rows.slice(20).join('\n')}\n`);
  code = path.join(dir, 'code');
  await mkdir(path.join(code, 'lib'), { recursive: true });
  await writeFile(
    path.join(code, 'train.js'),
    [
      "const fs = require('node:fs');",
      "const hp = JSON.parse(fs.readFileSync(process.env.SAGEMAKER_BASE_DIR + '/input/config/hyperparameters.json', 'utf8'));",
      "console.log('loss: 0.25');",
      "console.log('acc=0.75');",
      "fs.writeFileSync(process.env.SM_MODEL_DIR + '/model.json', JSON.stringify(hp));",
    ].join('\n'),
  );
  await writeFile(path.join(code, 'lib', 'util.js'), 'module.exports = 1;\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smkit train-job --dry-run builds CreateTrainingJob as SageMaker takes it', () => {
  test('a built-in with every option: local channel uploaded, S3 channel as given, spot, checkpoint', async () => {
    const run = await smkit([
      'train-job',
      ...AWS,
      '--algorithm',
      'kmeans',
      '--hyperparameters',
      'k=2,feature_dim=2,mini_batch_size=10',
      '--channel',
      `train=${train},content-type=text/csv`,
      '--channel',
      'test=s3://data-bucket/test/,mode=Pipe,distribution=ShardedByS3Key,wrapper=RecordIO,compression=Gzip,content-type=application/x-recordio-protobuf,shuffle=7',
      '--hosts',
      '2',
      '--volume-size',
      '50',
      '--max-runtime',
      '600',
      '--spot',
      '--max-wait',
      '1200',
      '--checkpoint',
      's3://ckpt-bucket/kmeans/',
      '--output',
      's3://out-bucket/jobs',
      '--job-name',
      'kmeans-job-1',
      '--dry-run',
    ]);
    const requests = dryRunRequests(run);
    // Uploads first (one object per file, keys as relative paths), then the job; no bucket creation.
    expect(requests.map((r) => `${r.service} ${r.operation}`)).toEqual([
      'ecr DescribeImages',
      's3 PutObject',
      's3 PutObject',
      'sagemaker CreateTrainingJob',
    ]);
    expect(requests[0]!.input).toEqual({
      registryId: '123456789012',
      repositoryName: 'smkit-kmeans',
      imageIds: [{ imageTag: '1.0' }],
    });
    expect(requests.slice(1, 3).map((r) => r.input)).toEqual([
      {
        Bucket: 'out-bucket',
        Key: 'jobs/kmeans-job-1/input/train/a.csv',
        Body: { file: path.join(train, 'a.csv'), bytes: expect.any(Number) },
      },
      {
        Bucket: 'out-bucket',
        Key: 'jobs/kmeans-job-1/input/train/part/b.csv',
        Body: { file: path.join(train, 'part', 'b.csv'), bytes: expect.any(Number) },
      },
    ]);
    const expected: CreateTrainingJobCommandInput = {
      TrainingJobName: 'kmeans-job-1',
      RoleArn: ROLE,
      AlgorithmSpecification: {
        TrainingImage: IMAGE,
        TrainingInputMode: 'File',
        MetricDefinitions: kmeansAlgorithm.metricDefinitions.map((d) => ({ Name: d.Name, Regex: d.Regex })),
      },
      HyperParameters: { k: '2', feature_dim: '2', mini_batch_size: '10' },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://out-bucket/jobs/kmeans-job-1/input/train/',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
          ContentType: 'text/csv',
          InputMode: 'File',
          RecordWrapperType: 'None',
        },
        {
          ChannelName: 'test',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://data-bucket/test/',
              S3DataDistributionType: 'ShardedByS3Key',
            },
          },
          ContentType: 'application/x-recordio-protobuf',
          InputMode: 'Pipe',
          RecordWrapperType: 'RecordIO',
          CompressionType: 'Gzip',
          ShuffleConfig: { Seed: 7 },
        },
      ],
      OutputDataConfig: { S3OutputPath: 's3://out-bucket/jobs' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 2, VolumeSizeInGB: 50 },
      StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 1200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: 's3://ckpt-bucket/kmeans/', LocalPath: '/opt/ml/checkpoints' },
      Environment: { SMKIT_ALGORITHM: 'kmeans' },
    };
    expect(inputOf<CreateTrainingJobCommandInput>(requests, 'CreateTrainingJob')).toEqual(expected);
  });

  test('script mode: sourcedir.tar.gz uploaded, sagemaker_* hyperparameters JSON-encoded, default bucket', async () => {
    const run = await smkit([
      'train-job',
      ...AWS,
      '--entry-point',
      'train.js',
      '--source-dir',
      code,
      '--hyperparameters',
      'epochs=3,name=abc,flag=True,layers=[1,2]',
      '--metric-definitions',
      'loss=loss: (\\S+);acc=acc=(\\S+)',
      '--channel',
      `train=${train}`,
      '--job-name',
      'script-job',
      '--dry-run',
    ]);
    const requests = dryRunRequests(run);
    expect(requests.map((r) => `${r.service} ${r.operation}`)).toEqual([
      'ecr DescribeImages',
      'sts GetCallerIdentity',
      's3 HeadBucket',
      's3 CreateBucket',
      's3 PutObject',
      's3 PutObject',
      's3 PutObject',
      'sagemaker CreateTrainingJob',
    ]);
    expect(requests[3]!.input).toEqual({ Bucket: 'sagemaker-us-east-1-ACCOUNT_ID' });
    expect(requests[6]!.input).toMatchObject({
      Bucket: 'sagemaker-us-east-1-ACCOUNT_ID',
      Key: 'script-job/source/sourcedir.tar.gz',
    });
    const job = inputOf<CreateTrainingJobCommandInput>(requests, 'CreateTrainingJob');
    expect(job.HyperParameters).toEqual({
      epochs: '3',
      name: '"abc"',
      flag: 'true',
      layers: '[1,2]',
      sagemaker_program: '"train.js"',
      sagemaker_submit_directory: '"s3://sagemaker-us-east-1-ACCOUNT_ID/script-job/source/sourcedir.tar.gz"',
      sagemaker_container_log_level: '20',
      sagemaker_job_name: '"script-job"',
      sagemaker_region: '"us-east-1"',
    });
    expect(job.AlgorithmSpecification?.MetricDefinitions).toEqual([
      { Name: 'loss', Regex: 'loss: (\\S+)' },
      { Name: 'acc', Regex: 'acc=(\\S+)' },
    ]);
    expect(job.OutputDataConfig).toEqual({ S3OutputPath: 's3://sagemaker-us-east-1-ACCOUNT_ID/' });
    expect(job.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 86_400 });
    expect(job.ResourceConfig).toEqual({ InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 });
    expect(job.Environment).toBeUndefined();
    expect(job.EnableManagedSpotTraining).toBeUndefined();
    expect(job.CheckpointConfig).toBeUndefined();
  });

  test('without --job-name the name is generated from the image repository, as SageMaker allows', async () => {
    const requests = dryRunRequests(
      await smkit([
        'train-job',
        ...AWS,
        '--algorithm',
        'pca',
        '--hyperparameters',
        'feature_dim=2,num_components=1,mini_batch_size=10',
        '--channel',
        'train=s3://data-bucket/train/',
        '--output',
        's3://out-bucket/',
        '--dry-run',
      ]),
    );
    const job = inputOf<CreateTrainingJobCommandInput>(requests, 'CreateTrainingJob');
    expect(job.TrainingJobName).toMatch(/^smkit-kmeans-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}$/);
    expect(job.Environment).toEqual({ SMKIT_ALGORITHM: 'pca' });
  });
});

describe('smkit train-job for an image of your own', () => {
  test('neither --algorithm nor --entry-point: the hyperparameters as plain strings, no SMKIT_ALGORITHM', async () => {
    const requests = dryRunRequests(
      await smkit([
        'train-job',
        ...AWS,
        '--hyperparameters',
        'smkit_algorithm=zscore,feature_dim=4',
        '--channel',
        'train=s3://data-bucket/train/',
        '--output',
        's3://out-bucket/',
        '--job-name',
        'own-image-job',
        '--dry-run',
      ]),
    );
    const job = inputOf<CreateTrainingJobCommandInput>(requests, 'CreateTrainingJob');
    expect(job.HyperParameters).toEqual({ smkit_algorithm: 'zscore', feature_dim: '4' });
    expect(job.Environment).toBeUndefined();
    expect(job.AlgorithmSpecification?.TrainingImage).toBe(IMAGE);
  });

  test('both --algorithm and --entry-point: one line saying to give one', async () => {
    const run = await smkit([
      'train-job',
      ...AWS,
      '--algorithm',
      'kmeans',
      '--entry-point',
      'train.js',
      '--source-dir',
      code,
      '--channel',
      'train=s3://data-bucket/train/',
      '--dry-run',
    ]);
    expect([run.code, run.stderr]).toEqual([
      1,
      'smkit train-job: give either --algorithm NAME or --entry-point FILE, not both\n',
    ]);
  });
});

describe('smkit train-job refuses bad input before any request', () => {
  const kmeans = ['--algorithm', 'kmeans', '--hyperparameters', 'k=2,feature_dim=2'];
  test.each([
    [
      'a user ARN as the role',
      ['--role', 'arn:aws:iam::123456789012:user/alice'],
      /--role arn:aws:iam::123456789012:user\/alice is an IAM user; SageMaker needs a role/,
    ],
    [
      'hyperparameters the algorithm rejects',
      ['--hyperparameters', 'k=0,feature_dim=2'],
      /^smkit train-job: invalid hyperparameters for kmeans: k must be an integer >= 1 \(got '0'\)$/m,
    ],
    [
      'an unknown hyperparameter',
      ['--hyperparameters', 'k=2,feature_dim=2,kk=3'],
      /invalid hyperparameters for kmeans: .*'kk' was unexpected/,
    ],
    ['a channel spec that does not parse', ['--channel', 'train'], /--channel train: expected NAME=DIR/],
    [
      'a channel option that does not exist',
      ['--channel', 'train=s3://b/x,speed=fast'],
      /unknown option 'speed'/,
    ],
    [
      'a missing local channel directory',
      ['--channel', 'train=/no/such/dir'],
      /neither an s3:\/\/ URI nor a directory/,
    ],
    ['spot without --max-wait', ['--spot'], /--spot needs --max-wait/],
    [
      '--max-wait shorter than the run',
      ['--spot', '--max-wait', '60', '--max-runtime', '600'],
      /must be >= --max-runtime/,
    ],
    [
      'a checkpoint that is not S3',
      ['--checkpoint', '/tmp/ckpt'],
      /--checkpoint '\/tmp\/ckpt' is not an S3 URI/,
    ],
    [
      'an image in another region',
      ['--image', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/smkit:1'],
      /is in eu-west-1 but the SageMaker resources would be in us-east-1/,
    ],
    [
      '--output DIR and --download DIR',
      ['--output', '/tmp/a', '--download', '/tmp/b'],
      /give --output DIR or --download DIR, not both/,
    ],
    [
      'a job name SageMaker refuses',
      ['--job-name', 'bad_name'],
      /--job-name 'bad_name' is not a SageMaker name/,
    ],
  ])('%s', async (_what, extra, message) => {
    const run = await smkit([
      'train-job',
      ...AWS,
      ...kmeans,
      '--output',
      's3://out-bucket/',
      ...extra,
      '--dry-run',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^smkit train-job: /);
  });

  test('no region: one line saying how to give one', async () => {
    const run = await smkit(
      ['train-job', ...AWS.slice(0, -2), ...kmeans, '--output', 's3://out-bucket/', '--dry-run'],
      isolatedEnv(),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'smkit train-job: no AWS region: pass --region, set AWS_REGION, or set one in the profile\n',
    );
  });

  test('no credentials: one line saying where credentials come from, and nothing was created', async () => {
    // The endpoint is a closed loopback port: credentials are resolved (and missing) before any request.
    const run = await smkit([
      'train-job',
      ...AWS,
      ...kmeans,
      '--output',
      's3://out-bucket/',
      '--max-attempts',
      '1',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^smkit train-job: ECR DescribeImages: no AWS credentials found; set AWS_PROFILE/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
