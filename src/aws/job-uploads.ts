import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as tar from 'tar';
import { parseS3Uri } from '../train/s3-download.js';
import type { PlannedUpload } from './training-job.js';

/** One object written to S3. */
export interface UploadedObject {
  readonly uri: string;
  readonly bytes: number;
}

async function putFile(s3: S3Client, file: string, uri: string): Promise<UploadedObject> {
  const { bucket, key } = parseS3Uri(uri);
  const bytes = (await stat(file)).size;
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: bytes }),
  );
  return { uri, bytes };
}

/** Copies a planned directory (or file) to S3, one object per file, keys as the files' relative paths. */
export async function uploadPlanned(s3: S3Client, upload: PlannedUpload): Promise<UploadedObject[]> {
  const done: UploadedObject[] = [];
  for (const file of upload.files) {
    const key = file.split(path.sep).join('/');
    done.push(await putFile(s3, path.join(upload.local, file), `${upload.uri}${key}`));
  }
  return done;
}

/**
 * Packs `members` of `dir` into sourcedir.tar.gz (members at the root, as the SageMaker SDK packs
 * source_dir) and uploads it to `uri`.
 */
export async function uploadSourceArchive(
  s3: S3Client,
  source: { readonly dir: string; readonly members: readonly string[]; readonly uri: string },
): Promise<UploadedObject> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'smkit-sourcedir-'));
  try {
    const archive = path.join(scratch, 'sourcedir.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: source.dir, portable: true }, [...source.members]);
    return await putFile(s3, archive, source.uri);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
