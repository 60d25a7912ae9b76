import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { extractTarball } from './safe-extract.js';
import type { S3Options } from '../s3-download.js';

/** Options of {@link prepareCodeDir}. */
export interface PrepareCodeDirOptions extends S3Options {
  /** `sagemaker_submit_directory`: an s3:// URI of sourcedir.tar.gz, a local tar.gz or a directory. */
  readonly submitDirectory: string | undefined;
  /** Where user code lives (/opt/ml/code). */
  readonly codeDir: string;
  readonly log: Logger;
  /** Most bytes the archive may unpack to; default: the free space of the code dir's file system. */
  readonly maxExtractBytes?: number | undefined;
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Puts the user's code into the code dir: downloads and safely extracts `s3://.../sourcedir.tar.gz`,
 * extracts a local archive or copies a local directory. As the reference toolkit does, this happens only
 * when the code dir is empty (an image may ship its code there).
 */
export async function prepareCodeDir(options: PrepareCodeDirOptions): Promise<void> {
  const { submitDirectory, codeDir, log } = options;
  if (!submitDirectory) return;
  if (!(await isEmptyDir(codeDir))) {
    log.info({ codeDir, submitDirectory }, 'code dir is not empty: using the code already there');
    return;
  }
  const source = submitDirectory.startsWith('file://')
    ? submitDirectory.slice('file://'.length)
    : submitDirectory;
  if (source.startsWith('s3://')) {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'smkit-source-'));
    try {
      const archive = path.join(scratch, 'sourcedir.tar.gz');
      log.info({ uri: source }, 'downloading user code');
      // The AWS SDK is loaded only for jobs that need it: it doubles the start time.
      const { downloadS3Object } = await import('../s3-download.js');
      await downloadS3Object(source, archive, options);
      await extractTarball(archive, codeDir, { maxBytes: options.maxExtractBytes });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    return;
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch {
    throw new InputError(
      `sagemaker_submit_directory '${submitDirectory}' does not exist: give an s3:// URI, a tar.gz file or a directory`,
    );
  }
  if (info.isDirectory()) {
    if (path.resolve(source) === path.resolve(codeDir)) return;
    await mkdir(codeDir, { recursive: true });
    await cp(source, codeDir, { recursive: true, verbatimSymlinks: true });
  } else {
    await extractTarball(source, codeDir, { maxBytes: options.maxExtractBytes });
  }
}
