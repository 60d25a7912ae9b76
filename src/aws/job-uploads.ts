import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import type { AwsSession } from './session.js';

/** A local directory (or file) to copy to S3 before a job is created. */
export interface PlannedUpload {
  readonly what: string;
  /** Local directory whose files go under `uri` (keys = their relative paths). */
  readonly local: string;
  readonly files: readonly string[];
  /** The `s3://` prefix, ending in `/`. */
  readonly uri: string;
}

/**
 * Splits an S3 URI that smkit itself derived (from a checked one, or the default bucket, whose account is
 * `ACCOUNT_ID` in a dry run): `s3://bucket/key`.
 */
export function splitS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** Joins an S3 prefix and key parts with single slashes. */
export function s3Join(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/\/+$/, ''), ...parts.map((part) => part.replace(/^\/+|\/+$/g, ''))]
    .filter((part) => part !== '')
    .join('/');
}

function noteUploaded(session: AwsSession, what: string, prefix: string): void {
  session.noteCreated({
    kind: `S3 objects (${what})`,
    name: prefix,
    remove: `aws s3 rm --recursive ${prefix}`,
  });
}

/** Copies a planned directory to S3, one object per file, keys as the files' relative paths. */
export async function uploadPlanned(session: AwsSession, upload: PlannedUpload): Promise<number> {
  const { bucket, key: prefix } = splitS3Uri(upload.uri);
  noteUploaded(session, upload.what, upload.uri);
  for (const file of upload.files) {
    await session.upload(path.join(upload.local, file), bucket, prefix + file.split(path.sep).join('/'));
  }
  return upload.files.length;
}

/**
 * Packs `members` of `dir` into sourcedir.tar.gz (members at the root, as the SageMaker SDK packs
 * source_dir) and uploads it to `uri`.
 */
export async function uploadSourceArchive(
  session: AwsSession,
  source: { readonly dir: string; readonly members: readonly string[]; readonly uri: string },
): Promise<void> {
  const { bucket, key } = splitS3Uri(source.uri);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'smkit-sourcedir-'));
  try {
    const archive = path.join(scratch, 'sourcedir.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: source.dir, portable: true }, [...source.members]);
    noteUploaded(session, 'sourcedir.tar.gz', source.uri);
    await session.upload(archive, bucket, key);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
