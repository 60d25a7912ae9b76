import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreateModelCommandInput, CreateTransformJobCommandInput } from '@aws-sdk/client-sagemaker';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dryRunRequests, inputOf, smkit } from './jobs-cli.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit:1';
const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
const BASE = [
  'transform-job',
  '--instance-type',
  'ml.m5.large',
  '--region',
  'us-east-1',
  '--content-type',
  'text/csv',
];

let dir: string;
let input: string;
let model: string;
let nested: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-transform-job-'));
  input = path.join(dir, 'input');
  await mkdir(input);
  await writeFile(path.join(input, 'rows.csv'), '1,2\n3,4\n');
  const modelDir = path.join(dir, 'model');
  await mkdir(path.join(modelDir, 'inner'), { recursive: true });
  // Checked as deploy checks it: members at the root and a model the server detects (model_algo-1).
  await writeFile(path.join(modelDir, 'model_algo-1'), 'kmeans');
  await writeFile(path.join(modelDir, 'inner', 'model_algo-1'), 'kmeans');
  model = path.join(dir, 'model.tar.gz');
  await tar.c({ gzip: true, file: model, cwd: modelDir }, ['model_algo-1']);
  nested = path.join(dir, 'nested.tar.gz');
  await tar.c({ gzip: true, file: nested, cwd: modelDir }, ['inner']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smkit transform-job --dry-run builds CreateTransformJob as SageMaker takes it', () => {
  test('every option of smkit local transform, for an existing model and S3 input', async () => {
    const requests = dryRunRequests(
      await smkit([
        ...BASE,
        '--model',
        'my-model',
        '--input',
        's3://in-bucket/rows/',
        '--output',
        's3://out-bucket/predictions/',
        '--content-type',
        'text/csv',
        '--accept',
        'text/csv',
        '--split-type',
        'Line',
        '--strategy',
        'MultiRecord',
        '--max-payload',
        '10',
        '--concurrency',
        '10',
        '--assemble-with',
        'Line',
        '--input-filter',
        '$[1:]',
        '--output-filter',
        '$[0,-1]',
        '--join-source',
        'Input',
        '--env',
        'SAGEMAKER_MODEL_SERVER_WORKERS=2',
        '--instance-count',
        '2',
        '--job-name',
        'batch-1',
        '--dry-run',
      ]),
    );
    expect(requests.map((r) => `${r.service} ${r.operation}`)).toEqual([
      'sagemaker DescribeModel',
      'sagemaker CreateTransformJob',
    ]);
    const expected: CreateTransformJobCommandInput = {
      TransformJobName: 'batch-1',
      ModelName: 'my-model',
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 10,
      MaxConcurrentTransforms: 10,
      Environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '2' },
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://in-bucket/rows/' } },
        ContentType: 'text/csv',
        SplitType: 'Line',
      },
      TransformOutput: {
        S3OutputPath: 's3://out-bucket/predictions/',
        Accept: 'text/csv',
        AssembleWith: 'Line',
      },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 2 },
      DataProcessing: { InputFilter: '$[1:]', OutputFilter: '$[0,-1]', JoinSource: 'Input' },
    };
    expect(inputOf<CreateTransformJobCommandInput>(requests, 'CreateTransformJob')).toEqual(expected);
  });

  test("the defaults are local transform's: no split, Accept application/json, no join; payload left to the container", async () => {
    const job = inputOf<CreateTransformJobCommandInput>(
      dryRunRequests(
        await smkit([
          ...BASE,
          '--model',
          'm',
          '--input',
          's3://in-bucket/x',
          '--output',
          's3://out-bucket/y',
          '--job-name',
          'j',
          '--dry-run',
        ]),
      ),
      'CreateTransformJob',
    );
    expect(job).toEqual({
      TransformJobName: 'j',
      ModelName: 'm',
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://in-bucket/x' } },
        ContentType: 'text/csv',
        SplitType: 'None',
      },
      TransformOutput: {
        S3OutputPath: 's3://out-bucket/y',
        Accept: 'application/json',
        AssembleWith: 'None',
      },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      DataProcessing: { JoinSource: 'None' },
    });
  });

  test('--image --model-data FILE: the archive is checked, uploaded and the model created, then the job', async () => {
    const requests = dryRunRequests(
      await smkit([
        ...BASE,
        '--image',
        IMAGE,
        '--model-data',
        model,
        '--role',
        ROLE,
        '--input',
        input,
        '--output',
        's3://out-bucket/y/',
        '--job-name',
        'from-image',
        '--dry-run',
      ]),
    );
    expect(requests.map((r) => `${r.service} ${r.operation}`)).toEqual([
      'ecr DescribeImages',
      'sts GetCallerIdentity',
      's3 HeadBucket',
      's3 CreateBucket',
      's3 PutObject',
      'sagemaker CreateModel',
      's3 PutObject',
      'sagemaker CreateTransformJob',
    ]);
    const created = inputOf<CreateModelCommandInput>(requests, 'CreateModel');
    expect(created).toEqual({
      ModelName: expect.stringMatching(/^smkit-\d{4}-/),
      ExecutionRoleArn: ROLE,
      PrimaryContainer: {
        Image: IMAGE,
        ModelDataUrl: `s3://sagemaker-us-east-1-ACCOUNT_ID/${created.ModelName}/model.tar.gz`,
      },
    });
    expect(requests[6]!.input).toMatchObject({
      Bucket: 'sagemaker-us-east-1-ACCOUNT_ID',
      Key: 'from-image/input/rows.csv',
    });
    const job = inputOf<CreateTransformJobCommandInput>(requests, 'CreateTransformJob');
    expect(job.ModelName).toBe(created.ModelName);
    expect(job.TransformInput?.DataSource?.S3DataSource?.S3Uri).toBe(
      's3://sagemaker-us-east-1-ACCOUNT_ID/from-image/input/',
    );
  });
});

describe('smkit transform-job refuses what SageMaker would, before any request', () => {
  test.each([
    [
      'a payload over 100 MB',
      ['--max-payload', '101'],
      /--max-payload must be between 0 and 100 MB \(got 101\)/,
    ],
    [
      'concurrency x payload over 100',
      ['--max-payload', '20', '--concurrency', '6'],
      /MaxConcurrentTransforms x MaxPayloadInMB must be <= 100 \(got 6 x 20\)/,
    ],
    ['concurrency over 100 / the default 6 MB', ['--concurrency', '17'], /\(got 17 x 6\)/],
    ['a filter that does not parse', ['--input-filter', 'features'], /starts with '\$'/],
    [
      'a local input that is missing',
      ['--input', '/no/such/dir'],
      /--input \/no\/such\/dir is neither an s3:\/\/ URI nor a directory/,
    ],
    ['an output that is not S3', ['--output', '/tmp/out'], /--output '\/tmp\/out' is not an S3 URI/],
    ['both --model and --image', ['--image', IMAGE], /give either --model NAME or --image URI/],
  ])('%s', async (_what, extra, message) => {
    const args = ['--model', 'm', '--input', 's3://in-bucket/x', '--output', 's3://out-bucket/y'];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i]!);
      if (at >= 0) args.splice(at, 2);
    }
    const run = await smkit([...BASE, ...args, ...extra, '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^smkit transform-job: [^\n]+\n$/);
  });

  test('a model archive nested one directory down, and a user ARN as the role', async () => {
    const common = [
      '--image',
      IMAGE,
      '--input',
      's3://in-bucket/x',
      '--output',
      's3://out-bucket/y',
      '--dry-run',
    ];
    const nestedRun = await smkit([...BASE, ...common, '--model-data', nested, '--role', ROLE]);
    expect(nestedRun.code).toBe(1);
    expect(nestedRun.stdout).toBe('');
    expect(nestedRun.stderr).toMatch(/nested one directory down/);
    const userRun = await smkit([
      ...BASE,
      ...common,
      '--model-data',
      model,
      '--role',
      'arn:aws:iam::123456789012:user/bob',
    ]);
    expect(userRun.code).toBe(1);
    expect(userRun.stdout).toBe('');
    expect(userRun.stderr).toMatch(/is an IAM user/);
  });
});
