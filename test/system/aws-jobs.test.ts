/**
 * `smkit train-job` and `smkit transform-job` against a real moto_server, asserting what the emulator
 * holds afterwards (DescribeTrainingJob / DescribeTransformJob, S3 objects). moto's gaps are worked
 * around, not faked: it writes no CloudWatch logs (the test puts the lines a container would), jobs
 * never fail (a loopback proxy answers DescribeTrainingJob with Failed) and the model.tar.gz it names
 * is never written (the test writes the archive SageMaker would).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import * as tar from 'tar';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  clientConfig,
  MOTO_ACCOUNT,
  type Moto,
  registerImage,
  smkit,
  startMoto,
  startRecordingProxy,
  targetOf,
} from './aws-helpers.js';

const IMAGE = `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smkit:1`;
const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/SageMakerRole`;
const BUCKET = 'smkit-jobs';

let moto: Moto;
let s3: S3Client;
let sagemaker: SageMakerClient;
let logs: CloudWatchLogsClient;
let dir: string;
let data: string;
let code: string;

async function keys(bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function tarMembers(archive: Buffer): Promise<string[]> {
  const file = path.join(dir, `members-${Date.now()}.tar.gz`);
  await writeFile(file, archive);
  const members: string[] = [];
  await tar.t({ file, onReadEntry: (entry) => members.push(entry.path) });
  return members.sort();
}

/** Puts log lines where SageMaker writes a training host's container output. */
async function putTrainingLogs(stream: string, lines: readonly string[]): Promise<void> {
  const group = '/aws/sagemaker/TrainingJobs';
  await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch(() => undefined);
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  const now = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: stream,
      logEvents: lines.map((message, i) => ({ message, timestamp: now + i })),
    }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(clientConfig(moto.endpoint));
  sagemaker = new SageMakerClient(clientConfig(moto.endpoint));
  logs = new CloudWatchLogsClient(clientConfig(moto.endpoint));
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-aws-jobs-'));
  data = path.join(dir, 'data');
  await mkdir(path.join(data, 'more'), { recursive: true });
  await writeFile(path.join(data, 'a.csv'), '1,2\n3,4\n');
  await writeFile(path.join(data, 'more', 'b.csv'), '5,6\n');
  code = path.join(dir, 'code');
  await mkdir(path.join(code, 'lib'), { recursive: true });
  await writeFile(path.join(code, 'train.js'), "console.log('loss: 0.5');\n");
  await writeFile(path.join(code, 'lib', 'util.js'), 'module.exports = 1;\n');
});

afterAll(async () => {
  for (const client of [s3, sagemaker, logs]) client?.destroy();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await registerImage(moto.endpoint, 'smkit', '1');
});

describe('smkit train-job against moto_server', () => {
  test('script mode: channels and sourcedir.tar.gz uploaded, the job as asked, logs streamed, model downloaded', async () => {
    const job = 'script-job-1';
    await putTrainingLogs(`${job}/algo-1-1700000000`, ['starting', 'loss: 0.5', 'done']);
    // SageMaker writes model.tar.gz when the job ends; moto names the key but never writes it.
    const modelDir = path.join(dir, 'trained');
    await mkdir(modelDir, { recursive: true });
    await writeFile(path.join(modelDir, 'model.json'), '{"weights":[1,2]}');
    const archive = path.join(dir, 'model.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: modelDir }, ['model.json']);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `out/${job}/output/model.tar.gz`,
        Body: await readFile(archive),
      }),
    );
    const download = path.join(dir, 'downloaded');

    const run = await smkit([
      'train-job',
      '--image',
      IMAGE,
      '--role',
      ROLE,
      '--instance-type',
      'ml.m5.large',
      '--entry-point',
      'train.js',
      '--source-dir',
      code,
      '--hyperparameters',
      'epochs=2,name=abc',
      '--channel',
      `train=${data},content-type=text/csv`,
      '--channel',
      `extra=s3://${BUCKET}/extra/,mode=Pipe`,
      '--max-runtime',
      '600',
      '--spot',
      '--max-wait',
      '900',
      '--checkpoint',
      `s3://${BUCKET}/checkpoints/`,
      '--output',
      `s3://${BUCKET}/out`,
      '--job-name',
      job,
      '--wait',
      '--poll-seconds',
      '0.2',
      '--download',
      download,
      '--endpoint-url',
      moto.endpoint,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('algo-1 | starting\nalgo-1 | loss: 0.5\nalgo-1 | done\n');
    expect(run.stderr).toContain('status: Completed');
    expect(run.stdout).toContain(`Training job ${job}: Completed`);
    expect(run.stdout).toContain('Final metrics:');

    const described = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: job }));
    expect(described.HyperParameters).toEqual({
      epochs: '2',
      name: '"abc"',
      sagemaker_program: '"train.js"',
      sagemaker_submit_directory: `"s3://${BUCKET}/out/${job}/source/sourcedir.tar.gz"`,
      sagemaker_container_log_level: '20',
      sagemaker_job_name: `"${job}"`,
      sagemaker_region: '"us-east-1"',
    });
    expect(described.AlgorithmSpecification?.TrainingImage).toBe(IMAGE);
    expect(described.RoleArn).toBe(ROLE);
    expect(described.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 900 });
    expect(described.EnableManagedSpotTraining).toBe(true);
    expect(described.CheckpointConfig).toEqual({
      S3Uri: `s3://${BUCKET}/checkpoints/`,
      LocalPath: '/opt/ml/checkpoints',
    });
    expect(described.OutputDataConfig?.S3OutputPath).toBe(`s3://${BUCKET}/out`);
    expect(described.ResourceConfig).toEqual({
      InstanceType: 'ml.m5.large',
      InstanceCount: 1,
      VolumeSizeInGB: 30,
    });
    expect(described.InputDataConfig).toEqual([
      expect.objectContaining({
        ChannelName: 'train',
        ContentType: 'text/csv',
        InputMode: 'File',
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: `s3://${BUCKET}/out/${job}/input/train/`,
            S3DataDistributionType: 'FullyReplicated',
          },
        },
      }),
      expect.objectContaining({
        ChannelName: 'extra',
        InputMode: 'Pipe',
        DataSource: expect.objectContaining({
          S3DataSource: expect.objectContaining({ S3Uri: `s3://${BUCKET}/extra/` }),
        }),
      }),
    ]);

    expect(await keys(BUCKET)).toEqual([
      `out/${job}/input/train/a.csv`,
      `out/${job}/input/train/more/b.csv`,
      `out/${job}/output/model.tar.gz`,
      `out/${job}/source/sourcedir.tar.gz`,
    ]);
    expect((await objectBytes(BUCKET, `out/${job}/input/train/more/b.csv`)).toString()).toBe('5,6\n');
    expect(await tarMembers(await objectBytes(BUCKET, `out/${job}/source/sourcedir.tar.gz`))).toEqual([
      'lib/util.js',
      'train.js',
    ]);
    expect(await readFile(path.join(download, 'model.tar.gz'))).toEqual(await readFile(archive));
    expect(await readFile(path.join(download, 'model', 'model.json'), 'utf8')).toBe('{"weights":[1,2]}');
  });

  test('a built-in without --output: the default bucket is created, inputs staged there, the job as asked', async () => {
    const run = await smkit([
      'train-job',
      '--image',
      IMAGE,
      '--role',
      ROLE,
      '--instance-type',
      'ml.c5.xlarge',
      '--algorithm',
      'kmeans',
      '--hyperparameters',
      'k=2,feature_dim=2,mini_batch_size=10',
      '--channel',
      `train=${data}`,
      '--hosts',
      '2',
      '--job-name',
      'kmeans-job',
      '--endpoint-url',
      moto.endpoint,
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ jobName: 'kmeans-job', status: 'InProgress' });
    const bucket = `sagemaker-us-east-1-${MOTO_ACCOUNT}`;
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    expect(await keys(bucket)).toEqual(['kmeans-job/input/train/a.csv', 'kmeans-job/input/train/more/b.csv']);
    const described = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'kmeans-job' }));
    expect(described.HyperParameters).toEqual({ k: '2', feature_dim: '2', mini_batch_size: '10' });
    expect(described.ResourceConfig).toEqual({
      InstanceType: 'ml.c5.xlarge',
      InstanceCount: 2,
      VolumeSizeInGB: 30,
    });
    expect(described.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 86_400 });
    expect(described.OutputDataConfig?.S3OutputPath).toBe(`s3://${bucket}/`);
    expect(described.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri).toBe(
      `s3://${bucket}/kmeans-job/input/train/`,
    );
  });

  test('hyperparameters the algorithm rejects: one line, exit 1, no job and nothing uploaded', async () => {
    const run = await smkit([
      'train-job',
      '--image',
      IMAGE,
      '--role',
      ROLE,
      '--instance-type',
      'ml.m5.large',
      '--algorithm',
      'kmeans',
      '--hyperparameters',
      'k=0,feature_dim=2',
      '--channel',
      `train=${data}`,
      '--output',
      `s3://${BUCKET}/out`,
      '--endpoint-url',
      moto.endpoint,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^smkit train-job: invalid hyperparameters for kmeans: k must be an integer >= 1 \(got '0'\)\n$/,
    );
    expect((await sagemaker.send(new ListTrainingJobsCommand({}))).TrainingJobSummaries).toEqual([]);
    expect(await keys(BUCKET)).toEqual([]);
  });

  test('an image that is not in ECR: one line saying how to push it, no job and nothing uploaded', async () => {
    const run = await smkit([
      'train-job',
      '--image',
      `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smkit:only-local`,
      '--role',
      ROLE,
      '--instance-type',
      'ml.m5.large',
      '--algorithm',
      'kmeans',
      '--hyperparameters',
      'k=2,feature_dim=2',
      '--channel',
      `train=${data}`,
      '--output',
      `s3://${BUCKET}/out`,
      '--endpoint-url',
      moto.endpoint,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^smkit train-job: \S+smkit:only-local is not in ECR .*smkit push --repository smkit --tag only-local`\n$/,
    );
    expect((await sagemaker.send(new ListTrainingJobsCommand({}))).TrainingJobSummaries).toEqual([]);
    expect(await keys(BUCKET)).toEqual([]);
  });

  test('a job that fails: FailureReason printed, exit 1 (a loopback proxy plays the Failed job moto never reports)', async () => {
    const reason =
      "AlgorithmError: invalid hyperparameters for kmeans: k must be an integer >= 1 (got '0'), exit code: 2";
    const proxy = await startRecordingProxy(moto.endpoint, (request) =>
      targetOf(request) === 'DescribeTrainingJob'
        ? {
            status: 200,
            body: {
              TrainingJobName: 'failing-job',
              TrainingJobArn: `arn:aws:sagemaker:us-east-1:${MOTO_ACCOUNT}:training-job/failing-job`,
              TrainingJobStatus: 'Failed',
              SecondaryStatus: 'Failed',
              FailureReason: reason,
            },
          }
        : undefined,
    );
    try {
      await putTrainingLogs('failing-job/algo-1-1700000000', ['ERROR k must be an integer >= 1']);
      const run = await smkit([
        'train-job',
        '--image',
        IMAGE,
        '--role',
        ROLE,
        '--instance-type',
        'ml.m5.large',
        '--entry-point',
        path.join(code, 'train.js'),
        '--channel',
        `train=s3://${BUCKET}/data/`,
        '--output',
        `s3://${BUCKET}/out`,
        '--job-name',
        'failing-job',
        '--wait',
        '--poll-seconds',
        '0.2',
        '--endpoint-url',
        proxy.endpoint,
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`Training job failing-job: Failed\n`);
      expect(run.stdout).toContain(`FailureReason: ${reason}\n`);
      expect(run.stderr).toContain('algo-1 | ERROR k must be an integer >= 1\n');
      const operations = proxy.seen.map(targetOf).filter(Boolean);
      expect(operations).toContain('CreateTrainingJob');
      expect(operations).toContain('DescribeLogStreams');
      // The job itself reached the emulator: the failure came from the describe, as on SageMaker.
      await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'failing-job' }));
    } finally {
      await proxy.close();
    }
  });
});

describe('smkit transform-job against moto_server', () => {
  test('--image --model-data FILE --input DIR: model created, input uploaded, the job as asked, waited for', async () => {
    const modelDir = path.join(dir, 'serve-model');
    await mkdir(modelDir, { recursive: true });
    // Checked as deploy checks it: a model the server detects at the root (model_algo-1).
    await writeFile(path.join(modelDir, 'model_algo-1'), 'kmeans');
    const archive = path.join(dir, 'serve-model.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: modelDir }, ['model_algo-1']);
    const run = await smkit([
      'transform-job',
      '--image',
      IMAGE,
      '--model-data',
      archive,
      '--role',
      ROLE,
      '--input',
      data,
      '--output',
      `s3://${BUCKET}/predictions/`,
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
      '4',
      '--assemble-with',
      'Line',
      '--input-filter',
      '$[1:]',
      '--join-source',
      'Input',
      '--output-filter',
      '$[-1]',
      '--instance-type',
      'ml.m5.large',
      '--instance-count',
      '2',
      '--job-name',
      'batch-job',
      '--wait',
      '--poll-seconds',
      '0.2',
      '--endpoint-url',
      moto.endpoint,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Transform job batch-job: Completed');
    const job = await sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: 'batch-job' }));
    const bucket = `sagemaker-us-east-1-${MOTO_ACCOUNT}`;
    expect(job).toMatchObject({
      TransformJobStatus: 'Completed',
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 10,
      MaxConcurrentTransforms: 4,
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/batch-job/input/` } },
        ContentType: 'text/csv',
        SplitType: 'Line',
      },
      TransformOutput: {
        S3OutputPath: `s3://${BUCKET}/predictions/`,
        Accept: 'text/csv',
        AssembleWith: 'Line',
      },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 2 },
      DataProcessing: { InputFilter: '$[1:]', OutputFilter: '$[-1]', JoinSource: 'Input' },
    });
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: job.ModelName! }));
    expect(model.PrimaryContainer?.Image).toBe(IMAGE);
    expect(model.PrimaryContainer?.ModelDataUrl).toBe(`s3://${bucket}/${job.ModelName}/model.tar.gz`);
    expect(await keys(bucket)).toEqual([
      'batch-job/input/a.csv',
      'batch-job/input/more/b.csv',
      `${job.ModelName}/model.tar.gz`,
    ]);
  });

  test('limits exceeded: refused before any request, nothing created', async () => {
    const run = await smkit([
      'transform-job',
      '--model',
      'some-model',
      '--input',
      data,
      '--output',
      `s3://${BUCKET}/predictions/`,
      '--content-type',
      'text/csv',
      '--max-payload',
      '50',
      '--concurrency',
      '3',
      '--instance-type',
      'ml.m5.large',
      '--endpoint-url',
      moto.endpoint,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'smkit transform-job: MaxConcurrentTransforms x MaxPayloadInMB must be <= 100 (got 3 x 50); lower --concurrency or --max-payload\n',
    );
    expect(await keys(BUCKET)).toEqual([]);
  });
});
