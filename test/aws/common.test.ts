import {
  CreateModelCommand,
  DescribeEndpointCommand,
  type CreateModelCommandInput,
} from '@aws-sdk/client-sagemaker';
import { describe, expect, test } from 'vitest';
import { checkImageRegion, parseImageUri, parseRoleArn, parseS3Uri } from '../../src/aws/arns.js';
import { toAwsError } from '../../src/aws/errors.js';
import { checkName, generateName, SAGEMAKER_NAME } from '../../src/aws/names.js';
import { createAwsSession, describeLeftovers, requestsToJson } from '../../src/aws/session.js';

describe('generated names', () => {
  test('follow the SDK: base, then the UTC time to the millisecond', () => {
    expect(generateName('my_model', new Date('2026-01-02T03:04:05.678Z'))).toBe(
      'my-model-2026-01-02-03-04-05-678',
    );
  });

  test.each([
    ['a'.repeat(100)],
    ['--weird__base..name--'],
    [''],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit'],
  ])('stay within 63 characters and the pattern: %s', (base) => {
    const name = generateName(base, new Date('2026-01-02T03:04:05.678Z'));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(SAGEMAKER_NAME);
  });

  test('a given name SageMaker refuses is refused before any call', () => {
    expect(() => checkName('has_underscore', '--name')).toThrow(
      /--name 'has_underscore' is not a SageMaker name/,
    );
    expect(() => checkName('a'.repeat(64), '--name')).toThrow(/1-63/);
    expect(checkName('ok-name-1', '--name')).toBe('ok-name-1');
  });
});

describe('role ARNs', () => {
  test('a role with a path parses', () => {
    expect(parseRoleArn('arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-Role')).toEqual({
      arn: 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-Role',
      partition: 'aws',
      account: '123456789012',
      path: '/service-role/',
      name: 'AmazonSageMaker-Role',
    });
  });

  test.each([
    ['arn:aws:iam::123456789012:user/alice', /is an IAM user; SageMaker needs a role/],
    [
      'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      /assumed-role session.*arn:aws:iam::123456789012:role\/Admin/,
    ],
    ['arn:aws:iam::123456789012:role//SageMaker', /mangled path/],
    ['arn:aws:iam::123456789012:role/service-role/', /mangled path/],
    ['arn:aws:iam::12345:role/x', /not 12 digits/],
    ['SageMakerRole', /is not an ARN/],
    ['arn:aws:s3:::bucket/key', /not an IAM ARN/],
  ])('%s is refused', (arn, message) => {
    expect(() => parseRoleArn(arn)).toThrow(message);
  });
});

describe('image URIs', () => {
  test('an ECR URI names its account, region, repository and tag', () => {
    expect(parseImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/smkit:1.0')).toEqual({
      uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/smkit:1.0',
      account: '123456789012',
      region: 'eu-west-1',
      repository: 'team/smkit',
      tag: '1.0',
    });
    expect(parseImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/smkit').tag).toBe('latest');
  });

  test('a local tag or another registry is refused with how to push', () => {
    expect(() => parseImageUri('smkit:latest')).toThrow(/not an ECR image URI.*smkit push/);
  });

  test('an image in another region than the endpoint is refused', () => {
    const image = parseImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/smkit:1');
    expect(() => checkImageRegion(image, 'us-east-1')).toThrow(
      /is in eu-west-1 but the SageMaker resources would be in us-east-1/,
    );
    expect(() => checkImageRegion(image, 'eu-west-1')).not.toThrow();
  });

  test('S3 URIs', () => {
    expect(parseS3Uri('s3://my-bucket/a/b.tar.gz', '--x')).toEqual({
      bucket: 'my-bucket',
      key: 'a/b.tar.gz',
    });
    expect(() => parseS3Uri('http://x', '--model-data')).toThrow(
      /--model-data 'http:\/\/x' is not an S3 URI/,
    );
  });
});

describe('AWS errors', () => {
  test('are one line with the service message and the request id', () => {
    const error = Object.assign(new Error('Could not find endpoint "x".\nmore'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400, requestId: 'req-1' },
    });
    expect(toAwsError(error, 'SageMaker', 'DescribeEndpoint').message).toBe(
      'SageMaker DescribeEndpoint: ValidationException: Could not find endpoint "x". (HTTP 400, request id req-1)',
    );
  });

  test('missing credentials say what to set', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(toAwsError(error, 'STS', 'GetCallerIdentity').message).toMatch(
      /no AWS credentials found; set AWS_PROFILE/,
    );
  });
});

describe('the recording session (dry run)', () => {
  test('records typed requests in order and sends nothing', async () => {
    const session = createAwsSession({
      dryRun: true,
      region: 'us-east-1',
      endpointUrl: 'http://127.0.0.1:9',
    });
    const input: CreateModelCommandInput = {
      ModelName: 'm',
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/R',
    };
    expect(
      await session.lookup('sagemaker', new DescribeEndpointCommand({ EndpointName: 'e' })),
    ).toBeUndefined();
    await session.call('sagemaker', new CreateModelCommand(input));
    expect(session.requests).toEqual([
      { service: 'sagemaker', operation: 'DescribeEndpoint', input: { EndpointName: 'e' } },
      { service: 'sagemaker', operation: 'CreateModel', input },
    ]);
    expect(await session.accountId()).toBe('ACCOUNT_ID');
  });

  test('the region comes from the flag, then AWS_REGION, then AWS_DEFAULT_REGION', async () => {
    expect(await createAwsSession({ dryRun: true, region: 'eu-west-1' }, { AWS_REGION: 'x' }).region()).toBe(
      'eu-west-1',
    );
    expect(await createAwsSession({ dryRun: true }, { AWS_REGION: 'eu-west-2' }).region()).toBe('eu-west-2');
    expect(await createAwsSession({ dryRun: true }, { AWS_DEFAULT_REGION: 'ap-south-1' }).region()).toBe(
      'ap-south-1',
    );
  });

  test('binary bodies print as byte counts and text', () => {
    expect(
      JSON.parse(
        requestsToJson([
          {
            service: 'sagemaker-runtime',
            operation: 'InvokeEndpoint',
            input: { Body: new TextEncoder().encode('1,2') },
          },
        ]),
      ),
    ).toEqual([
      {
        service: 'sagemaker-runtime',
        operation: 'InvokeEndpoint',
        input: { Body: { bytes: 3, utf8: '1,2' } },
      },
    ]);
  });

  test('leftovers say what exists and how to remove it', () => {
    expect(describeLeftovers([{ kind: 'model', name: 'm', remove: 'smkit teardown e --yes' }])).toBe(
      'created before the failure (still there):\n  model m: remove with `smkit teardown e --yes`\n',
    );
    expect(describeLeftovers([])).toBe('');
  });
});
