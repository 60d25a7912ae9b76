import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import type { AwsSession } from './session.js';

const known = new WeakMap<AwsSession, Promise<string>>();

async function findOrCreate(session: AwsSession): Promise<string> {
  const [region, account] = await Promise.all([session.region(), session.accountId()]);
  return ensureBucket(session, `sagemaker-${region}-${account}`);
}

/** Creates `bucket` in the session's region when it does not exist (noted as created); returns it. */
export async function ensureBucket(session: AwsSession, bucket: string): Promise<string> {
  const region = await session.region();
  if (await session.lookup('s3', new HeadBucketCommand({ Bucket: bucket }))) return bucket;
  await session.call(
    's3',
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  session.noteCreated({ kind: 'S3 bucket', name: bucket, remove: `aws s3 rb s3://${bucket}` });
  return bucket;
}

/**
 * The SageMaker SDK's default bucket, `sagemaker-REGION-ACCOUNT`, created (and noted as created) when
 * missing, as `Session.default_bucket()` does; looked up once per session. Staged inputs and outputs go
 * there unless a URI is given.
 */
export function defaultBucket(session: AwsSession): Promise<string> {
  let bucket = known.get(session);
  if (!bucket) {
    bucket = findOrCreate(session);
    known.set(session, bucket);
  }
  return bucket;
}
