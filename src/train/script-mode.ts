import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, SmkitError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { entryPointCommand } from './entry-point.js';
import { EXIT } from './failure.js';
import type { ScriptEnvironment } from './script-env.js';
import { STOP_GRACE_SECONDS } from './stop.js';

/** How much of the script's stderr is kept for the failure text. */
const STDERR_TAIL_BYTES = 16 * 1024;
const FAILURE_TAIL_CHARS = 2048;

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Entry point relative to the code dir (`sagemaker_program`). */
  readonly entryPoint: string;
  readonly codeDir: string;
  /** The inherited environment; the SM_* variables are added to it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly script: ScriptEnvironment;
  /** Aborted on SIGTERM: forwarded to the script's process group. */
  readonly stop: AbortSignal;
  readonly log: Logger;
  /** Seconds between forwarding SIGTERM and killing the group (default 110 of SageMaker's 120). */
  readonly graceSeconds?: number;
}

/** How a script ended: its exit code and, on failure, the text for output/failure. */
export interface ScriptOutcome {
  readonly exitCode: number;
  readonly failure: string | undefined;
}

/** The last line that looks like an exception (`Error: boom`, `ValueError: bad`), for the headline. */
function errorLine(tail: string): string | undefined {
  const lines = tail.split('\n').reverse();
  return lines
    .find((line) => /^(?:Uncaught\s+)?[A-Za-z_$][\w.$]*(?:Error|Exception)\b[^\n]*$/.test(line.trim()))
    ?.trim();
}

function tailText(chunks: Buffer): string {
  const text = chunks.toString('utf8').trimEnd();
  return text.length > FAILURE_TAIL_CHARS ? `...${text.slice(-FAILURE_TAIL_CHARS)}` : text;
}

async function checkEntryPoint(file: string, entryPoint: string, codeDir: string): Promise<void> {
  try {
    await access(file);
  } catch {
    const files = await readdir(codeDir).catch(() => [] as string[]);
    throw new InputError(
      `entry point '${entryPoint}' (sagemaker_program / SAGEMAKER_PROGRAM) not found in ${codeDir}` +
        (files.length ? `; it holds: ${files.sort().slice(0, 20).join(', ')}` : '; the code dir is empty'),
    );
  }
}

/**
 * Runs the user's entry point in its own process group with the SM_* environment and `--key value`
 * arguments. stdout is inherited (unbuffered metric lines); stderr is passed through and its tail kept
 * for the failure text. A stop request forwards SIGTERM to the whole group and SIGKILLs it after the
 * grace period. The exit code is the script's own (128 + n for a signal).
 */
export async function runScript(options: RunScriptOptions): Promise<ScriptOutcome> {
  const { codeDir, entryPoint, log } = options;
  const file = path.resolve(codeDir, entryPoint);
  await checkEntryPoint(file, entryPoint, codeDir);
  const { command, args } = entryPointCommand(file, options.script.args);
  log.info({ command, args, cwd: codeDir }, 'starting user script');
  const child = spawn(command, args, {
    cwd: codeDir,
    env: { ...options.env, ...options.script.env },
    stdio: ['ignore', 'inherit', 'pipe'],
    detached: true,
  });
  let tail = Buffer.alloc(0);
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
  });
  const closed = once(child.stderr, 'close').catch(() => undefined);

  let stopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  const onStop = () => {
    stopped = true;
    log.warn({ pid: child.pid }, 'forwarding SIGTERM to the user script');
    signalGroup('SIGTERM');
    killTimer = setTimeout(
      () => {
        log.error('user script did not exit after SIGTERM: killing it');
        signalGroup('SIGKILL');
      },
      (options.graceSeconds ?? STOP_GRACE_SECONDS) * 1000,
    );
  };
  options.stop.addEventListener('abort', onStop, { once: true });
  if (options.stop.aborted) onStop();

  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    [code, signal] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw error;
      }),
    ])) as [number | null, NodeJS.Signals | null];
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SmkitError(
      `cannot run the entry point ${entryPoint} (${command}): ${reason}; ` +
        'use a .js, .mjs, .ts, .sh or .py file, or make it executable (chmod +x) with a #! line',
    );
  } finally {
    options.stop.removeEventListener('abort', onStop);
    if (killTimer) clearTimeout(killTimer);
  }
  // Background children of the script may keep stderr open: do not wait for them for long.
  await Promise.race([closed, sleep(2000)]);

  const exitCode = signal ? 128 + (os.constants.signals[signal] ?? 0) : (code ?? EXIT.failed);
  log.info({ exitCode, signal }, 'user script finished');
  if (exitCode === 0) return { exitCode, failure: undefined };
  const stderr = tailText(tail);
  const detail = stderr ? `\n\nstderr of the script (last lines):\n${stderr}` : '';
  if (signal === 'SIGKILL' || exitCode === EXIT.killed) {
    return {
      exitCode: EXIT.killed,
      failure:
        `out of memory: the user script ${entryPoint} was killed by SIGKILL (exit code 137), which usually means ` +
        `the instance ran out of memory; use a larger instance type or reduce the batch/data size held in memory.${detail}`,
    };
  }
  if (stopped && (signal === 'SIGTERM' || exitCode === EXIT.stopped)) {
    return {
      exitCode: EXIT.stopped,
      failure: `training stopped: SIGTERM (StopTrainingJob, MaxRuntimeInSeconds or a spot interruption) was forwarded to ${entryPoint}, which exited on it.${detail}`,
    };
  }
  const cause = errorLine(stderr);
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
  return {
    exitCode,
    failure: `ExecuteUserScriptError: ${entryPoint} ${how}${cause ? `: ${cause}` : ''}${detail}`,
  };
}
