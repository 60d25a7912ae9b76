import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import type { Algorithm } from '../../algorithms/types.js';
import { resolvePaths, type SageMakerPaths } from '../../src/contract/index.js';
import { runTrainingJob } from '../../src/train/runner.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The files of a job tree to create: config files by name, code files, channel files. */
export interface JobTreeFiles {
  readonly hyperparameters?: Record<string, string>;
  readonly inputDataConfig?: Record<string, unknown>;
  readonly resourceConfig?: Record<string, unknown>;
  readonly checkpointConfig?: Record<string, unknown>;
  /** Files under the code dir, by relative name. */
  readonly code?: Record<string, string>;
  /** Files under input/data, by relative name (`train/a.csv`). */
  readonly data?: Record<string, string>;
}

/** Creates a SageMaker job tree in a temp dir and returns its paths. */
export async function createJobTree(files: JobTreeFiles = {}): Promise<SageMakerPaths> {
  const paths = resolvePaths(await mkdtemp(path.join(os.tmpdir(), 'smkit-job-')));
  await mkdir(paths.inputConfig, { recursive: true });
  const json = (file: string, value: unknown) =>
    value === undefined ? undefined : writeFile(file, JSON.stringify(value));
  await Promise.all([
    json(paths.hyperparameters, files.hyperparameters),
    json(paths.inputDataConfig, files.inputDataConfig),
    json(paths.resourceConfig, files.resourceConfig),
    json(paths.checkpointConfig, files.checkpointConfig),
  ]);
  for (const [root, entries] of [
    [paths.code, files.code],
    [paths.inputData, files.data],
  ] as const) {
    for (const [name, text] of Object.entries(entries ?? {})) {
      const file = path.join(root, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text, { mode: 0o755 });
    }
  }
  return paths;
}

/** A running `smkit train` with its collected output. */
export interface SmkitRun {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (128 + n for a signal). */
  readonly exited: Promise<number>;
}

/** Starts `smkit train` (from source, through tsx) as a real child process against a job tree. */
export function startSmkitTrain(
  paths: SageMakerPaths,
  env: Record<string, string> = {},
  cli = 'smkit-cli.ts',
): SmkitRun {
  const child = spawn(process.execPath, ['--import', tsx, path.join(here, 'fixtures', cli), 'train'], {
    env: { ...process.env, SAGEMAKER_BASE_DIR: paths.base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'close').then(([code, signal]) =>
    signal ? 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0) : (code as number),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `smkit train` to the end. */
export async function runSmkitTrain(
  paths: SageMakerPaths,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startSmkitTrain(paths, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The failure file's text, or `undefined` when there is none. */
export async function readFailure(paths: SageMakerPaths): Promise<string | undefined> {
  return readFile(paths.failure, 'utf8').catch(() => undefined);
}

/** Polls until a file exists (for scripts that signal readiness). */
export async function waitForFile(file: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await readFile(file);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Runs a job in this process (user scripts still run as real child processes): faster than starting
 * the CLI, for tests that do not need signals or smkit's own stdout.
 */
export function runJob(
  paths: SageMakerPaths,
  env: Record<string, string> = {},
  algorithms?: readonly Algorithm[],
): Promise<number> {
  return runTrainingJob({
    env: { ...process.env, SAGEMAKER_BASE_DIR: paths.base, ...env },
    log: pino({ level: 'silent' }),
    ...(algorithms ? { algorithms } : {}),
  });
}
