/**
 * Request construction for every option, through the recording session (the code path a real run
 * takes, with nothing sent): each request is checked against the SDK's own input types.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {
  PutScalingPolicyCommandInput,
  RegisterScalableTargetCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import type { CreateRepositoryCommandInput } from '@aws-sdk/client-ecr';
import type {
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  CreateModelPackageCommandInput,
  UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import type { InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { c as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  deploy,
  type DeployOptions,
  instanceArchitecture,
  parseAutoscale,
  parseServerless,
} from '../../src/aws/deploy.js';
import { invokeRequest } from '../../src/aws/invoke.js';
import { push } from '../../src/aws/push.js';
import { register } from '../../src/aws/register.js';
import { type AwsSession, createAwsSession, type RecordedRequest } from '../../src/aws/session.js';
import { planTeardown, runTeardown } from '../../src/aws/teardown.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit:1';
const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
const NOW = new Date('2026-01-02T03:04:05.678Z');
let work: string;
let archive: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'smkit-aws-requests-'));
  await writeFile(path.join(work, 'model_algo-1'), 'kmeans');
  archive = path.join(work, 'model.tar.gz');
  await createTar({ gzip: true, file: archive, cwd: work }, ['model_algo-1']);
});
afterAll(() => rm(work, { recursive: true, force: true }));

function dryRun(answers: Record<string, object> = {}): AwsSession {
  return createAwsSession({ dryRun: true, region: 'us-east-1', dryRunAnswers: answers });
}

function input<T>(requests: readonly RecordedRequest[], operation: string): T {
  const found = requests.find((r) => r.operation === operation);
  if (!found) throw new Error(`no ${operation} in ${requests.map((r) => r.operation).join(', ')}`);
  return found.input as T;
}

const base: DeployOptions = {
  image: IMAGE,
  modelData: 's3://models/model.tar.gz',
  role: ROLE,
  instanceType: 'ml.m5.large',
  endpointName: 'churn',
  now: NOW,
};

describe('deploy requests', () => {
  test('a first deployment: model, config, endpoint, in that order, after the ECR and endpoint lookups', async () => {
    const session = dryRun();
    await deploy(session, { ...base, instanceCount: 3, environment: { A: '1' } });
    expect(session.requests.map((r) => `${r.service}:${r.operation}`)).toEqual([
      'ecr:DescribeImages',
      'ecr:BatchGetImage',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:DescribeEndpoint',
      'sagemaker:CreateEndpoint',
    ]);
    expect(input<CreateModelCommandInput>(session.requests, 'CreateModel')).toEqual({
      ModelName: 'churn-2026-01-02-03-04-05-678',
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://models/model.tar.gz', Environment: { A: '1' } },
      Tags: [{ Key: 'smkit:endpoint', Value: 'churn' }],
    } satisfies CreateModelCommandInput);
    expect(input<CreateEndpointConfigCommandInput>(session.requests, 'CreateEndpointConfig')).toEqual({
      EndpointConfigName: 'churn-config-2026-01-02-03-04-05-678',
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: 'churn-2026-01-02-03-04-05-678',
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 3,
          InitialVariantWeight: 1,
        },
      ],
      Tags: [{ Key: 'smkit:endpoint', Value: 'churn' }],
    } satisfies CreateEndpointConfigCommandInput);
  });

  test('an existing endpoint is updated to the new config, not created again', async () => {
    const session = dryRun({ DescribeEndpoint: { EndpointName: 'churn', EndpointStatus: 'InService' } });
    const result = await deploy(session, base);
    expect(result.updated).toBe(true);
    expect(session.requests.some((r) => r.operation === 'CreateEndpoint')).toBe(false);
    expect(input<UpdateEndpointCommandInput>(session.requests, 'UpdateEndpoint')).toEqual({
      EndpointName: 'churn',
      EndpointConfigName: 'churn-config-2026-01-02-03-04-05-678',
    } satisfies UpdateEndpointCommandInput);
  });

  test('serverless and async configs', async () => {
    const session = dryRun();
    const { instanceType: _, ...rest } = base;
    await deploy(session, { ...rest, serverless: parseServerless('3072,10'), asyncOutput: 's3://out/x/' });
    const config = input<CreateEndpointConfigCommandInput>(session.requests, 'CreateEndpointConfig');
    expect(config.ProductionVariants?.[0]).toEqual({
      VariantName: 'AllTraffic',
      ModelName: 'churn-2026-01-02-03-04-05-678',
      ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 10 },
    });
    expect(config.AsyncInferenceConfig).toEqual({ OutputConfig: { S3OutputPath: 's3://out/x/' } });
  });

  test('a local archive is checked, then the bucket is made and the archive uploaded before CreateModel', async () => {
    const session = dryRun();
    await deploy(session, { ...base, modelData: archive, bucket: 'my-models' });
    expect(session.requests.map((r) => r.operation).slice(0, 6)).toEqual([
      'DescribeImages',
      'BatchGetImage',
      'HeadBucket',
      'CreateBucket',
      'PutObject',
      'CreateModel',
    ]);
    expect(
      input<CreateModelCommandInput>(session.requests, 'CreateModel').PrimaryContainer?.ModelDataUrl,
    ).toBe('s3://my-models/smkit/churn/model.tar.gz');
  });

  test('--multi-model s3://prefix: a MultiModel container over the prefix, the rest as for one model', async () => {
    const session = dryRun();
    const { modelData: _, ...rest } = base;
    const result = await deploy(session, {
      ...rest,
      multiModel: 's3://models/tenants',
      environment: { A: '1' },
    });
    expect(session.requests.map((r) => r.operation)).toEqual([
      'DescribeImages',
      'BatchGetImage',
      'CreateModel',
      'CreateEndpointConfig',
      'DescribeEndpoint',
      'CreateEndpoint',
    ]);
    expect(input<CreateModelCommandInput>(session.requests, 'CreateModel').PrimaryContainer).toEqual({
      Image: IMAGE,
      Mode: 'MultiModel',
      ModelDataUrl: 's3://models/tenants/',
      Environment: { SAGEMAKER_MULTI_MODEL: 'true', A: '1' },
    } satisfies CreateModelCommandInput['PrimaryContainer']);
    expect(result.modelDataUrl).toBe('s3://models/tenants/');
  });

  test('--multi-model DIR: each archive is checked and uploaded under one prefix, which the model serves', async () => {
    const folder = path.join(work, 'many');
    await mkdir(folder);
    for (const name of ['b.tar.gz', 'a.tar.gz']) await copyFile(archive, path.join(folder, name));
    await writeFile(path.join(folder, 'notes.txt'), 'not a model');
    const session = dryRun();
    const { modelData: _, ...rest } = base;
    const lines: string[] = [];
    await deploy(session, {
      ...rest,
      multiModel: folder,
      bucket: 'my-models',
      onStatus: (l) => lines.push(l),
    });
    expect(
      session.requests
        .filter((r) => r.operation === 'PutObject')
        .map((r) => (r.input as { Key: string }).Key),
    ).toEqual(['smkit/churn/models/a.tar.gz', 'smkit/churn/models/b.tar.gz']);
    expect(session.requests.map((r) => r.operation).indexOf('CreateModel')).toBeGreaterThan(
      session.requests.map((r) => r.operation).lastIndexOf('PutObject'),
    );
    expect(input<CreateModelCommandInput>(session.requests, 'CreateModel').PrimaryContainer).toEqual({
      Image: IMAGE,
      Mode: 'MultiModel',
      ModelDataUrl: 's3://my-models/smkit/churn/models/',
      Environment: { SAGEMAKER_MULTI_MODEL: 'true' },
    });
    expect(lines).toContain(`${path.join(folder, 'a.tar.gz')}: builtin model, members at the root`);
  });

  test('--multi-model is refused with --model-data, a model package, serverless, or a folder without archives', async () => {
    const empty = await mkdtemp(path.join(work, 'empty-'));
    const arn = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1';
    const { modelData: _, instanceType: __, ...rest } = base;
    const cases: [DeployOptions, RegExp][] = [
      [{ ...base, multiModel: 's3://models/x/' }, /give it or --model-data, not both/],
      [
        { role: ROLE, instanceType: 'ml.m5.large', modelPackage: arn, multiModel: 's3://m/x/' },
        /not --model-package/,
      ],
      [
        { ...rest, multiModel: 's3://models/x/', serverless: parseServerless('2048,5') },
        /serverless endpoints cannot host/,
      ],
      [{ ...rest, instanceType: 'ml.m5.large', multiModel: empty }, /holds no \*\.tar\.gz model archives/],
      [
        { ...rest, instanceType: 'ml.m5.large', multiModel: path.join(work, 'nowhere') },
        /neither an s3:\/\/ prefix nor a folder/,
      ],
    ];
    for (const [options, message] of cases) {
      const session = dryRun();
      await expect(deploy(session, options)).rejects.toThrow(message);
      expect(session.requests).toEqual([]);
    }
  });

  test('a model package replaces image and model data', async () => {
    const session = dryRun();
    const arn = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1';
    await deploy(session, {
      role: ROLE,
      instanceType: 'ml.c5.xlarge',
      modelPackage: arn,
      endpointName: 'churn',
      now: NOW,
    });
    expect(input<CreateModelCommandInput>(session.requests, 'CreateModel').PrimaryContainer).toEqual({
      ModelPackageName: arn,
    });
    expect(session.requests.some((r) => r.service === 'ecr')).toBe(false);
  });

  test('--autoscale: the variant count as a scalable target and a target-tracking policy', async () => {
    const session = dryRun();
    await deploy(session, { ...base, autoscale: parseAutoscale('min=2,max=8,invocations-per-instance=120') });
    expect(input<RegisterScalableTargetCommandInput>(session.requests, 'RegisterScalableTarget')).toEqual({
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/churn/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 2,
      MaxCapacity: 8,
    } satisfies RegisterScalableTargetCommandInput);
    expect(input<PutScalingPolicyCommandInput>(session.requests, 'PutScalingPolicy')).toEqual({
      PolicyName: 'churn-invocations-per-instance',
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/churn/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 120,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    } satisfies PutScalingPolicyCommandInput);
  });

  test.each([
    ['min=3,max=1,invocations-per-instance=5', /min \(3\) is greater than max \(1\)/],
    ['max=4', /needs max and invocations-per-instance/],
    ['min=0,max=4,invocations-per-instance=5', /min must be a positive integer/],
    ['size=3', /unknown key 'size'/],
  ])('--autoscale %s is refused', (spec, message) => {
    expect(() => parseAutoscale(spec)).toThrow(message);
  });

  test.each([
    [{ serverless: { memoryMb: 2048, maxConcurrency: 1 } }, /no --instance-type/],
    [{ instanceType: 'm5.large' }, /not a SageMaker instance type/],
    [{ modelData: undefined }, /--model-data is required/],
    [{ role: 'arn:aws:iam::123456789012:user/bob' }, /is an IAM user/],
    [{ image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/smkit:1' }, /is in eu-central-1/],
    [{ endpointName: 'bad_name' }, /not a SageMaker name/],
  ])('bad input %o is refused and nothing is requested', async (change, message) => {
    const session = dryRun();
    await expect(deploy(session, { ...base, ...change } as DeployOptions)).rejects.toThrow(message);
    expect(session.requests).toEqual([]);
  });

  test.each([
    [
      'ml.m5.large',
      /multi-platform index \(linux\/amd64, linux\/arm64\), which SageMaker cannot pull; push it again with `smkit push --platform linux\/amd64`/,
    ],
    [
      'ml.c7g.xlarge',
      /multi-platform index \(linux\/amd64\), .*no linux\/arm64 image for ml.c7g.xlarge \(it would fail with 'exec format error'\)/,
    ],
  ])(
    'an image whose tag is an OCI index is refused for %s before anything is created',
    async (instanceType, message) => {
      const platforms = instanceType === 'ml.m5.large' ? ['amd64', 'arm64'] : ['amd64'];
      const index = {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          ...platforms.map((architecture) => ({ platform: { os: 'linux', architecture } })),
          { platform: { os: 'unknown', architecture: 'unknown' } },
        ],
      };
      const session = dryRun({ BatchGetImage: { images: [{ imageManifest: JSON.stringify(index) }] } });
      await expect(deploy(session, { ...base, instanceType })).rejects.toThrow(message);
      expect(session.requests.map((r) => r.operation)).toEqual(['DescribeImages', 'BatchGetImage']);
    },
  );

  test('Graviton instance families are arm64, the rest amd64', () => {
    expect(
      [
        'ml.c7g.xlarge',
        'ml.m6gd.large',
        'ml.r7g.2xlarge',
        'ml.m5.large',
        'ml.g4dn.xlarge',
        'ml.inf2.xlarge',
      ].map(instanceArchitecture),
    ).toEqual(['arm64', 'arm64', 'arm64', 'amd64', 'amd64', 'amd64']);
  });
});

describe('invoke requests', () => {
  test('every flag becomes its InvokeEndpoint field', () => {
    const body = Buffer.from('1,2\n');
    expect(
      invokeRequest({
        endpointName: 'churn',
        contentType: 'text/csv',
        accept: 'application/json',
        body,
        customAttributes: 'a=1',
        targetModel: 'm.tar.gz',
        targetVariant: 'blue',
        inferenceId: 'id-1',
      }),
    ).toEqual({
      EndpointName: 'churn',
      ContentType: 'text/csv',
      Body: body,
      Accept: 'application/json',
      CustomAttributes: 'a=1',
      TargetModel: 'm.tar.gz',
      TargetVariant: 'blue',
      InferenceId: 'id-1',
    } satisfies InvokeEndpointCommandInput);
  });

  test.each([
    [{ contentType: 'image/png' }, /has no decoder/],
    [{ accept: 'text/html' }, /answers application\/json/],
    [{ body: Buffer.alloc(6 * 1024 * 1024 + 1) }, /at most 6 MB/],
  ])('%o is refused', (change, message) => {
    expect(() =>
      invokeRequest({ endpointName: 'e', contentType: 'text/csv', body: Buffer.from('1'), ...change }),
    ).toThrow(message);
  });
});

describe('register and push requests', () => {
  test('register: the group when missing, then the version', async () => {
    const session = dryRun();
    await register(session, {
      image: IMAGE,
      modelData: 's3://models/m.tar.gz',
      group: 'churn',
      approval: 'Approved',
      instanceTypes: ['ml.c5.xlarge'],
    });
    expect(session.requests.map((r) => r.operation)).toEqual([
      'DescribeModelPackageGroup',
      'CreateModelPackageGroup',
      'CreateModelPackage',
    ]);
    const request = input<CreateModelPackageCommandInput>(session.requests, 'CreateModelPackage');
    expect([
      request.ModelApprovalStatus,
      request.InferenceSpecification?.SupportedRealtimeInferenceInstanceTypes,
      request.InferenceSpecification?.SupportedContentTypes?.[0],
    ]).toEqual(['Approved', ['ml.c5.xlarge'], 'text/csv']);
  });

  test('push: the repository with scan on push and the tag mutability asked for', async () => {
    const session = dryRun();
    const result = await push(session, {
      image: 'local:1',
      repository: 'team/smkit',
      tag: '2',
      immutableTags: true,
    });
    expect(session.requests.map((r) => r.operation)).toEqual([
      'GetCallerIdentity',
      'DescribeRepositories',
      'CreateRepository',
      'GetAuthorizationToken',
    ]);
    expect(input<CreateRepositoryCommandInput>(session.requests, 'CreateRepository')).toEqual({
      repositoryName: 'team/smkit',
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: 'IMMUTABLE',
    } satisfies CreateRepositoryCommandInput);
    expect(result.uri).toBe('ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com/team/smkit:2');
  });
});

describe('teardown requests', () => {
  test('scaling first, then the endpoint, its configs and models', async () => {
    const session = dryRun({
      DescribeEndpoint: {
        EndpointName: 'churn',
        EndpointConfigName: 'churn-config-1',
        ProductionVariants: [{ VariantName: 'AllTraffic' }],
      },
      DescribeEndpointConfig: { ProductionVariants: [{ ModelName: 'churn-model-1' }] },
      DescribeScalableTargets: { ScalableTargets: [{ ResourceId: 'endpoint/churn/variant/AllTraffic' }] },
      DescribeScalingPolicies: {
        ScalingPolicies: [{ PolicyName: 'p', ResourceId: 'endpoint/churn/variant/AllTraffic' }],
      },
    });
    const plan = await planTeardown(session, 'churn');
    const before = session.requests.length;
    await runTeardown(session, plan);
    expect(session.requests.slice(before).map((r) => [r.operation, r.input])).toEqual([
      [
        'DeleteScalingPolicy',
        {
          PolicyName: 'p',
          ServiceNamespace: 'sagemaker',
          ResourceId: 'endpoint/churn/variant/AllTraffic',
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        },
      ],
      [
        'DeregisterScalableTarget',
        {
          ServiceNamespace: 'sagemaker',
          ResourceId: 'endpoint/churn/variant/AllTraffic',
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        },
      ],
      ['DeleteEndpoint', { EndpointName: 'churn' }],
      ['DeleteEndpointConfig', { EndpointConfigName: 'churn-config-1' }],
      ['DeleteModel', { ModelName: 'churn-model-1' }],
    ]);
  });
});

describe('smkit deploy --dry-run', () => {
  test('prints the requests as JSON and sends nothing (the endpoint URL is not listening)', async () => {
    const cli = path.resolve('test/train/fixtures/smkit-cli.ts');
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'deploy',
          '--dry-run',
          '--region',
          'us-east-1',
          '--endpoint-url',
          'http://127.0.0.1:9',
          '--image',
          IMAGE,
          '--model-data',
          's3://models/m.tar.gz',
          '--role',
          ROLE,
          '--instance-type',
          'ml.m5.large',
          '--endpoint-name',
          'churn',
        ],
        { env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } },
        (error, out) => (error ? reject(error) : resolve({ stdout: out })),
      ),
    );
    const requests = JSON.parse(stdout) as RecordedRequest[];
    expect(requests.map((r) => r.operation)).toEqual([
      'DescribeImages',
      'BatchGetImage',
      'CreateModel',
      'CreateEndpointConfig',
      'DescribeEndpoint',
      'CreateEndpoint',
    ]);
  });
});
