import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../util/errors.js';

/** Where and how to reach S3. */
export interface S3Options {
  readonly region: string | undefined;
  /** `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` (moto_server, MinIO, VPC endpoints): path-style requests. */
  readonly endpoint: string | undefined;
}

/** Splits `s3://bucket/key` into its parts; throws an InputError for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new InputError(`'${uri}' is not an S3 URI of the form s3://bucket/key`);
  return { bucket: match[1]!, key: match[2]! };
}

/**
 * Downloads one S3 object to a local file with the job's credentials (the SDK's default chain).
 * Failures name the URI and the S3 error code.
 */
export async function downloadS3Object(uri: string, file: string, options: S3Options): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  const client = new S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error('empty response body');
    await pipeline(response.Body as Readable, createWriteStream(file));
  } catch (error) {
    const code = (error as { name?: string }).name ?? 'Error';
    throw new InputError(`cannot download ${uri}: ${code}: ${(error as Error).message}`);
  } finally {
    client.destroy();
  }
}
