import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ZodError } from 'zod';
import { SmkitError } from '../util/errors.js';

/** SageMaker shows only the first 1024 characters of output/failure as the job's FailureReason. */
export const FAILURE_REASON_CHARS = 1024;

/** Exit codes of the training runner besides a user script's own. */
export const EXIT = Object.freeze({
  ok: 0,
  failed: 1,
  /** 128 + SIGKILL: what SageMaker reports for an out-of-memory kill. */
  killed: 137,
  /** 128 + SIGTERM: stopped by StopTrainingJob, MaxRuntimeInSeconds or a spot interruption. */
  stopped: 143,
});

/**
 * The failure text of anything thrown: the message alone for SmkitError/InputError (it already says what
 * to fix), the issues of a ZodError, and the message first then the stack for anything else, so the
 * FailureReason is never only a stack trace.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof SmkitError) return error.message;
  if (error instanceof ZodError) {
    return error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
  }
  if (error instanceof Error) {
    const stack = error.stack?.split('\n').slice(1).join('\n');
    return `Unexpected error: ${error.name}: ${error.message}${stack ? `\n${stack}` : ''}`;
  }
  return `Unexpected error: ${String(error)}`;
}

/**
 * Writes output/failure unless one exists already (user code may have written its own reason, which
 * wins). Returns whether this call wrote the file.
 */
export async function writeFailure(file: string, text: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, text.endsWith('\n') ? text : `${text}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a failure file left by an earlier run in the same tree, so that one written during this run
 * can be told apart from a stale one. SageMaker always starts with an empty output dir.
 */
export async function clearFailure(file: string): Promise<void> {
  await rm(file, { force: true });
}
