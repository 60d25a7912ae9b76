/** `smkit register` (and deploying what it registered) against moto_server: what the registry holds. */
import {
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { clientConfig, MOTO_ACCOUNT, type Moto, smkit, startMoto } from './aws-helpers.js';

const IMAGE = `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smkit-serve:1.0`;
const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/SageMakerRole`;

let moto: Moto;
let sagemaker: SageMakerClient;

beforeAll(async () => {
  moto = await startMoto();
  sagemaker = new SageMakerClient(clientConfig(moto.endpoint));
});
afterAll(async () => {
  sagemaker?.destroy();
  await moto?.stop();
});
beforeEach(() => moto.reset());

const registerArgs = (...more: string[]) => [
  'register',
  '--endpoint-url',
  moto.endpoint,
  '--image',
  IMAGE,
  '--model-data',
  's3://models/churn/model.tar.gz',
  '--group',
  'churn',
  ...more,
];

describe('smkit register', () => {
  test('creates the group once and a version whose inference specification is what the server handles', async () => {
    const first = await smkit([
      ...registerArgs('--approval', 'Approved', '--description', 'first'),
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as { modelPackageArn: string; groupCreated: boolean };
    expect(result.groupCreated).toBe(true);
    const group = await sagemaker.send(
      new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'churn' }),
    );
    expect(group.ModelPackageGroupName).toBe('churn');

    const described = await sagemaker.send(
      new DescribeModelPackageCommand({ ModelPackageName: result.modelPackageArn }),
    );
    expect([
      described.ModelApprovalStatus,
      described.ModelPackageDescription,
      described.ModelPackageGroupName,
    ]).toEqual(['Approved', 'first', 'churn']);
    expect(described.InferenceSpecification).toEqual({
      Containers: [expect.objectContaining({ Image: IMAGE, ModelDataUrl: 's3://models/churn/model.tar.gz' })],
      SupportedContentTypes: [
        'text/csv',
        'application/json',
        'application/jsonlines',
        'application/x-jsonlines',
        'application/x-recordio-protobuf',
        'application/x-npy',
      ],
      SupportedResponseMIMETypes: [
        'application/json',
        'application/jsonlines',
        'text/csv',
        'application/x-recordio-protobuf',
        'application/x-npy',
      ],
      SupportedRealtimeInferenceInstanceTypes: ['ml.m5.large', 'ml.c5.xlarge'],
      SupportedTransformInstanceTypes: ['ml.m5.large', 'ml.c5.xlarge'],
    });

    const second = await smkit([...registerArgs('--instance-types', 'ml.c5.xlarge'), '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as { groupCreated: boolean }).groupCreated).toBe(false);
    const versions = await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'churn' }));
    expect(versions.ModelPackageSummaryList?.map((p) => p.ModelApprovalStatus)).toEqual([
      'Approved',
      'PendingManualApproval',
    ]);
  });

  test('deploy accepts the registered model package instead of image and model data', async () => {
    const registered = await smkit([...registerArgs('--approval', 'Approved'), '--json']);
    const { modelPackageArn } = JSON.parse(registered.stdout) as { modelPackageArn: string };
    const deployed = await smkit([
      'deploy',
      '--endpoint-url',
      moto.endpoint,
      '--model-package',
      modelPackageArn,
      '--role',
      ROLE,
      '--instance-type',
      'ml.c5.xlarge',
      '--endpoint-name',
      'from-registry',
      '--poll-interval',
      '0',
      '--json',
    ]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const { modelName } = JSON.parse(deployed.stdout) as { modelName: string };
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: modelName }));
    expect(model.PrimaryContainer?.ModelPackageName).toBe(modelPackageArn);
  });

  test('an image in another region is refused before any call', async () => {
    const run = await smkit([
      'register',
      '--endpoint-url',
      moto.endpoint,
      '--image',
      `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/x:1`,
      '--model-data',
      's3://m/model.tar.gz',
      '--group',
      'churn',
    ]);
    expect([run.code, run.stderr]).toEqual([
      1,
      expect.stringMatching(
        /^smkit register: the image .* is in eu-west-1 but the SageMaker resources would be in us-east-1/,
      ),
    ]);
    await expect(
      sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'churn' })),
    ).rejects.toThrow();
  });
});
