/**
 * `smkit deploy`, `invoke` and `teardown` against a real moto_server: what the emulator holds
 * afterwards (describe-* calls), not exit codes alone. moto's gaps are played, not faked away: a
 * recording proxy answers DescribeEndpoint with Failed (moto never fails), and UpdateEndpoint is
 * left to answer moto's own HTTP 500.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { c as createTar } from 'tar';
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

const IMAGE = `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smkit-serve:1.0`;
const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/service-role/SageMakerRole`;

let moto: Moto;
let work: string;
let archive: string;
let nested: string;
let sagemaker: SageMakerClient;
let scaling: ApplicationAutoScalingClient;

const deployArgs = (endpoint: string, name: string, ...more: string[]) => [
  'deploy',
  '--endpoint-url',
  endpoint,
  '--image',
  IMAGE,
  '--model-data',
  archive,
  '--role',
  ROLE,
  '--instance-type',
  'ml.m5.large',
  '--endpoint-name',
  name,
  '--poll-interval',
  '0',
  ...more,
];

beforeAll(async () => {
  moto = await startMoto();
  sagemaker = new SageMakerClient(clientConfig(moto.endpoint));
  scaling = new ApplicationAutoScalingClient(clientConfig(moto.endpoint));
  work = await mkdtemp(path.join(os.tmpdir(), 'smkit-aws-deploy-'));
  await mkdir(path.join(work, 'model'));
  await writeFile(path.join(work, 'model', 'model.onnx'), 'onnx bytes');
  archive = path.join(work, 'model.tar.gz');
  await createTar({ gzip: true, file: archive, cwd: path.join(work, 'model') }, ['model.onnx']);
  await mkdir(path.join(work, 'nested', 'export'), { recursive: true });
  await writeFile(path.join(work, 'nested', 'export', 'model.onnx'), 'onnx bytes');
  nested = path.join(work, 'nested.tar.gz');
  await createTar({ gzip: true, file: nested, cwd: path.join(work, 'nested') }, ['export']);
});

afterAll(async () => {
  sagemaker?.destroy();
  scaling?.destroy();
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  await registerImage(moto.endpoint, 'smkit-serve', '1.0');
});

describe('smkit deploy', () => {
  test('uploads the archive, creates model, config and endpoint, waits for InService and wires auto scaling', async () => {
    const run = await smkit(
      deployArgs(
        moto.endpoint,
        'churn',
        '--instance-count',
        '2',
        '--autoscale',
        'min=2,max=6,invocations-per-instance=70',
        '--env',
        'SMKIT_X=1',
        '--json',
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      modelName: string;
      endpointConfigName: string;
      modelDataUrl: string;
      status: string;
    };
    expect(result.status).toBe('InService');

    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn' }));
    expect([endpoint.EndpointStatus, endpoint.EndpointConfigName]).toEqual([
      'InService',
      result.endpointConfigName,
    ]);
    const config = await sagemaker.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: result.endpointConfigName }),
    );
    expect(config.ProductionVariants).toEqual([
      expect.objectContaining({
        VariantName: 'AllTraffic',
        ModelName: result.modelName,
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 2,
      }),
    ]);
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
    expect([
      model.ExecutionRoleArn,
      model.PrimaryContainer?.Image,
      model.PrimaryContainer?.ModelDataUrl,
    ]).toEqual([ROLE, IMAGE, `s3://sagemaker-us-east-1-${MOTO_ACCOUNT}/smkit/churn/model.tar.gz`]);
    expect(model.PrimaryContainer?.Environment).toEqual({ SMKIT_X: '1' });

    const s3 = new S3Client(clientConfig(moto.endpoint));
    const object = await s3.send(
      new GetObjectCommand({
        Bucket: `sagemaker-us-east-1-${MOTO_ACCOUNT}`,
        Key: 'smkit/churn/model.tar.gz',
      }),
    );
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(await readFile(archive))).toBe(true);
    s3.destroy();

    const targets = await scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(
      targets.ScalableTargets?.map((t) => [t.ResourceId, t.ScalableDimension, t.MinCapacity, t.MaxCapacity]),
    ).toEqual([['endpoint/churn/variant/AllTraffic', 'sagemaker:variant:DesiredInstanceCount', 2, 6]]);
    const policies = await scaling.send(
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }),
    );
    expect(
      policies.ScalingPolicies?.map((p) => [
        p.PolicyType,
        p.TargetTrackingScalingPolicyConfiguration?.TargetValue,
        p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType,
      ]),
    ).toEqual([['TargetTrackingScaling', 70, 'SageMakerVariantInvocationsPerInstance']]);
  });

  test('--multi-model DIR uploads every archive under one prefix and creates a MultiModel endpoint over it', async () => {
    const folder = path.join(work, 'tenants');
    await mkdir(folder, { recursive: true });
    for (const name of ['tenant-a.tar.gz', 'tenant-b.tar.gz'])
      await copyFile(archive, path.join(folder, name));
    const args = deployArgs(moto.endpoint, 'tenants', '--json');
    const at = args.indexOf('--model-data');
    args.splice(at, 2, '--multi-model', folder);
    const run = await smkit(args);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { modelName: string; modelDataUrl: string; status: string };
    const prefix = `s3://sagemaker-us-east-1-${MOTO_ACCOUNT}/smkit/tenants/models/`;
    expect([result.status, result.modelDataUrl]).toEqual(['InService', prefix]);
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
    expect(model.PrimaryContainer).toEqual(
      expect.objectContaining({
        Image: IMAGE,
        Mode: 'MultiModel',
        ModelDataUrl: prefix,
        Environment: { SAGEMAKER_MULTI_MODEL: 'true' },
      }),
    );
    const s3 = new S3Client(clientConfig(moto.endpoint));
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: `sagemaker-us-east-1-${MOTO_ACCOUNT}`, Prefix: 'smkit/tenants/' }),
    );
    s3.destroy();
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([
      ['smkit/tenants/models/tenant-a.tar.gz', (await readFile(archive)).length],
      ['smkit/tenants/models/tenant-b.tar.gz', (await readFile(archive)).length],
    ]);
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'tenants' }));
    expect(endpoint.EndpointStatus).toBe('InService');
  });

  test('serverless and async endpoints keep their configs', async () => {
    const serverless = await smkit([
      ...deployArgs(moto.endpoint, 'tiny').filter(
        (a, i, all) => a !== '--instance-type' && all[i - 1] !== '--instance-type',
      ),
      '--serverless',
      '2048,5',
      '--json',
    ]);
    expect(serverless.code, serverless.stderr).toBe(0);
    const tiny = JSON.parse(serverless.stdout) as { endpointConfigName: string };
    const config = await sagemaker.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: tiny.endpointConfigName }),
    );
    expect(config.ProductionVariants?.[0]?.ServerlessConfig).toEqual({
      MemorySizeInMB: 2048,
      MaxConcurrency: 5,
    });

    const queued = await smkit([
      ...deployArgs(moto.endpoint, 'queued'),
      '--async',
      's3://results/out/',
      '--json',
    ]);
    expect(queued.code, queued.stderr).toBe(0);
    const name = (JSON.parse(queued.stdout) as { endpointConfigName: string }).endpointConfigName;
    const asyncConfig = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
    expect(asyncConfig.AsyncInferenceConfig?.OutputConfig?.S3OutputPath).toBe('s3://results/out/');
  });

  test('redeploying updates the endpoint; when UpdateEndpoint fails it says what exists and how to remove it', async () => {
    expect((await smkit(deployArgs(moto.endpoint, 'churn'))).code).toBe(0);
    // moto does not implement UpdateEndpoint (HTTP 500): one attempt, and the failure is reported as AWS would.
    const again = await smkit([...deployArgs(moto.endpoint, 'churn'), '--max-attempts', '1']);
    expect(again.code).toBe(1);
    const lines = again.stderr
      .trim()
      .split('\n')
      .filter(
        (l) =>
          !l.startsWith('endpoint churn exists') &&
          !l.includes('model, members') &&
          !l.startsWith('uploading'),
      );
    expect(lines[0]).toMatch(/^smkit deploy: SageMaker UpdateEndpoint: .*HTTP 500/);
    expect(lines[1]).toBe('created before the failure (still there):');
    const models = (await sagemaker.send(new ListModelsCommand({}))).Models?.map((m) => m.ModelName) ?? [];
    const configs =
      (await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs?.map(
        (c) => c.EndpointConfigName,
      ) ?? [];
    expect([models.length, configs.length]).toEqual([2, 2]);
    const leftovers = lines
      .slice(2)
      .map((l) => l.trim().split(' '))
      .map((words) => words.slice(0, -1).join(' '));
    const newModel = models.find((m) => again.stderr.includes(`model ${m}:`));
    const newConfig = configs.find((c) => again.stderr.includes(`endpoint config ${c}:`));
    expect(newModel && newConfig).toBeTruthy();
    expect(lines.slice(2)).toEqual([
      `  model ${newModel}: remove with \`aws sagemaker delete-model --model-name ${newModel} --region us-east-1\``,
      `  endpoint config ${newConfig}: remove with \`aws sagemaker delete-endpoint-config --endpoint-config-name ${newConfig} --region us-east-1\``,
    ]);
    expect(leftovers).toHaveLength(2);
  });

  test.each([
    [
      '--autoscale',
      'min=5,max=2,invocations-per-instance=10',
      /--autoscale: min \(5\) is greater than max \(2\)/,
    ],
    ['--role', `arn:aws:iam::${MOTO_ACCOUNT}:user/alice`, /is an IAM user; SageMaker needs a role/],
    [
      '--image',
      `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/smkit-serve:1.0`,
      /is in eu-west-1 but the SageMaker resources would be in us-east-1/,
    ],
    [
      '--image',
      `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smkit-serve:only-local`,
      /is not in ECR \(a tag that exists only locally\?\)/,
    ],
    ['--model-data', 'NESTED', /nested one directory down \(everything is under 'export\/'\)/],
  ])('%s %s is refused in one line and nothing is created', async (flag, value, message) => {
    const args = deployArgs(moto.endpoint, 'refused');
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = value === 'NESTED' ? nested : value;
    else args.push(flag, value);
    const run = await smkit(args);
    expect(run.code).toBe(1);
    const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('smkit deploy:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect((await sagemaker.send(new ListModelsCommand({}))).Models).toEqual([]);
    expect((await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs).toEqual([]);
  });

  test('a Failed endpoint prints the FailureReason and the last log lines of its containers', async () => {
    const logs = new CloudWatchLogsClient(clientConfig(moto.endpoint));
    const group = '/aws/sagemaker/Endpoints/broken';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'AllTraffic/i-0abc' }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'AllTraffic/i-0abc',
        logEvents: [
          { timestamp: Date.now() - 2000, message: 'loading model' },
          {
            timestamp: Date.now() - 1000,
            message: 'no model found in /opt/ml/model: expected model_algo-1, model.onnx',
          },
        ],
      }),
    );
    logs.destroy();
    // moto's endpoints never fail: the proxy answers DescribeEndpoint as SageMaker does for a failed one.
    const proxy = await startRecordingProxy(moto.endpoint, (request) =>
      targetOf(request) === 'DescribeEndpoint' && proxyCreated(proxySeen())
        ? {
            status: 200,
            body: {
              EndpointName: 'broken',
              EndpointArn: `arn:aws:sagemaker:us-east-1:${MOTO_ACCOUNT}:endpoint/broken`,
              EndpointConfigName: 'x',
              EndpointStatus: 'Failed',
              FailureReason:
                'The primary container for production variant AllTraffic did not pass the ping health check.',
              CreationTime: 1,
              LastModifiedTime: 1,
            },
          }
        : undefined,
    );
    const proxySeen = () => proxy.seen;
    try {
      const run = await smkit(deployArgs(proxy.endpoint, 'broken'));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout.split('\n')).toEqual([
        'endpoint broken Failed: The primary container for production variant AllTraffic did not pass the ping health check.',
        'last log lines of its containers:',
        '  AllTraffic/i-0abc | loading model',
        '  AllTraffic/i-0abc | no model found in /opt/ml/model: expected model_algo-1, model.onnx',
        'remove it with `smkit teardown broken --yes`',
        '',
      ]);
      expect(proxy.seen.map(targetOf).filter((t) => t && /Endpoint$|LogStreams|LogEvents/.test(t))).toEqual([
        'DescribeEndpoint',
        'CreateEndpoint',
        'DescribeEndpoint',
        'DescribeLogStreams',
        'GetLogEvents',
      ]);
    } finally {
      await proxy.close();
    }
  });
});

/** True once the proxy has passed CreateEndpoint on (the first DescribeEndpoint is the "does it exist" lookup). */
function proxyCreated(seen: readonly import('./aws-helpers.js').SeenRequest[]): boolean {
  return seen.some((r) => targetOf(r) === 'CreateEndpoint');
}

describe('smkit invoke', () => {
  test('sends InvokeEndpoint with the headers of smkit local invoke and prints the answer', async () => {
    await fetch(`${moto.endpoint}/moto-api/static/sagemaker/endpoint-results`, {
      method: 'POST',
      body: JSON.stringify({
        results: [
          {
            Body: '{"predictions":[1]}',
            ContentType: 'application/json',
            InvokedProductionVariant: 'AllTraffic',
            CustomAttributes: 'answered',
          },
        ],
      }),
    });
    const body = path.join(work, 'rows.csv');
    await writeFile(body, '1,2,3\n');
    const proxy = await startRecordingProxy(moto.endpoint);
    try {
      const run = await smkit([
        'invoke',
        '--endpoint-url',
        proxy.endpoint,
        '--endpoint',
        'churn',
        '--content-type',
        'text/csv',
        '--accept',
        'application/json',
        '--body',
        body,
        '--custom-attributes',
        'trace=1',
        '--target-model',
        'model-a.tar.gz',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        body: '{"predictions":[1]}',
        contentType: 'application/json',
        invokedVariant: 'AllTraffic',
        customAttributes: 'answered',
      });
      const [sent] = proxy.seen;
      expect([
        sent?.method,
        sent?.url,
        sent?.body.toString(),
        sent?.headers['content-type'],
        sent?.headers.accept,
        sent?.headers['x-amzn-sagemaker-custom-attributes'],
        sent?.headers['x-amzn-sagemaker-target-model'],
      ]).toEqual([
        'POST',
        '/endpoints/churn/invocations',
        '1,2,3\n',
        'text/csv',
        'application/json',
        'trace=1',
        'model-a.tar.gz',
      ]);
    } finally {
      await proxy.close();
    }
  });

  test('a Content-Type the model server cannot decode is refused before any call', async () => {
    const body = path.join(work, 'x.bin');
    await writeFile(body, 'x');
    const run = await smkit([
      'invoke',
      '--endpoint-url',
      moto.endpoint,
      '--endpoint',
      'churn',
      '--content-type',
      'image/png',
      '--body',
      body,
    ]);
    expect([run.code, run.stderr.trim()]).toEqual([
      1,
      expect.stringMatching(
        /^smkit invoke: --content-type image\/png has no decoder in smkit's model server; use one of text\/csv, application\/json/,
      ),
    ]);
  });
});

describe('smkit teardown', () => {
  test('deletes the endpoint, every config and model deploy made, and the scaling', async () => {
    expect(
      (
        await smkit(
          deployArgs(moto.endpoint, 'churn', '--autoscale', 'min=1,max=3,invocations-per-instance=5'),
        )
      ).code,
    ).toBe(0);
    expect((await smkit(deployArgs(moto.endpoint, 'other'))).code).toBe(0);
    const refused = await smkit(['teardown', 'churn', '--endpoint-url', moto.endpoint]);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringMatching(/stdin is not a terminal: pass --yes/),
    ]);
    expect(
      (await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn' }))).EndpointStatus,
    ).toBe('InService');

    const run = await smkit(['teardown', 'churn', '--yes', '--endpoint-url', moto.endpoint]);
    expect(run.code, run.stderr).toBe(0);
    await expect(sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn' }))).rejects.toThrow(
      /Could not find/,
    );
    const models =
      (await sagemaker.send(new ListModelsCommand({}))).Models?.map((m) => m.ModelName ?? '') ?? [];
    const configs =
      (await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs?.map(
        (c) => c.EndpointConfigName ?? '',
      ) ?? [];
    expect([
      models.every((m) => m.startsWith('other-')),
      models.length,
      configs.every((c) => c.startsWith('other-')),
      configs.length,
    ]).toEqual([true, 1, true, 1]);
    expect(
      (await scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' })))
        .ScalableTargets,
    ).toEqual([]);
    expect(
      (await scaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' })))
        .ScalingPolicies,
    ).toEqual([]);
    expect(
      (await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'other' }))).EndpointStatus,
    ).toBe('InService');
  });
});
