import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { extractTarball } from '../io/archive/safe-extract.js';
import { parseS3Uri } from './arns.js';
import type { AwsSession } from './session.js';
import { SmkitError } from '../util/errors.js';

/** Where a downloaded model went. */
export interface DownloadedModel {
  readonly archive: string;
  readonly dir: string;
}

/**
 * Downloads a job's model.tar.gz into `dir` (as `smkit local train` writes it there) and extracts it
 * into `dir/model` with the safe extraction the container uses: no absolute paths, `..` or links out.
 */
export async function downloadModel(session: AwsSession, uri: string, dir: string): Promise<DownloadedModel> {
  const { bucket, key } = parseS3Uri(uri, 'ModelArtifacts');
  await mkdir(dir, { recursive: true });
  const archive = path.join(dir, 'model.tar.gz');
  const response = await session.call('s3', new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new SmkitError(`${uri} has no body`);
  await pipeline(response.Body as Readable, createWriteStream(archive));
  const target = path.join(dir, 'model');
  await extractTarball(archive, target);
  return { archive, dir: target };
}
