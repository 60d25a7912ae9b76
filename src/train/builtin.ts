import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Algorithm, Channels } from '../../algorithms/types.js';
import {
  isPlatformHyperparameter,
  isSmkitHyperparameter,
  type SageMakerPaths,
  type TrainingSettings,
} from '../contract/index.js';
import { InputError, SmkitError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { JobHosts } from './cluster.js';
import { createTrainContext } from './context.js';
import type { MetricsWriter } from './metrics.js';
import { STOP_GRACE_SECONDS } from './stop.js';

/**
 * The hyperparameters an algorithm sees: without `_*`, `sagemaker_*` and `smkit_*` keys, raw strings
 * except JSON-quoted ones (`"\"10\""` as some clients send them), which are unquoted.
 */
export function algorithmHyperparameters(raw: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (isPlatformHyperparameter(key) || isSmkitHyperparameter(key)) continue;
    result[key] = unquote(value);
  }
  return result;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not JSON: keep it as it is
    }
  }
  return value;
}

/** Parses hyperparameters with the algorithm's schema; an InputError lists every broken key. */
export function parseAlgorithmHyperparameters<H>(algorithm: Algorithm<H>, raw: Record<string, string>): H {
  const parsed = algorithm.hyperparameters.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.length ? issue.path.join('.') : undefined;
    if (issue.code === 'unrecognized_keys') return `unknown hyperparameter(s) ${issue.keys.join(', ')}`;
    return key ? `hyperparameter '${key}': ${issue.message} (got '${raw[key] ?? ''}')` : issue.message;
  });
  throw new InputError(`invalid hyperparameters for ${algorithm.name}: ${problems.join('; ')}`);
}

/** Options of {@link runBuiltinAlgorithm}: the job as the runner read it, hyperparameters still raw strings. */
export interface RunBuiltinOptions {
  readonly algorithm: Algorithm;
  readonly hyperparameters: Readonly<Record<string, string>>;
  readonly paths: SageMakerPaths;
  readonly settings: Pick<TrainingSettings, 'hostWaitSeconds'>;
  readonly channels: Channels;
  readonly cluster: JobHosts;
  readonly metrics: MetricsWriter;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly checkpointDir: string;
  /** Seconds the algorithm has after SIGTERM before the run gives up on it (default 110 of 120). */
  readonly graceSeconds?: number;
}

/** Never resolves; rejects `seconds` after `signal` aborts, so a stuck algorithm cannot outlive the window. */
function stopDeadline(signal: AbortSignal, seconds = STOP_GRACE_SECONDS): Promise<never> {
  return new Promise((_resolve, reject) => {
    const arm = () => {
      setTimeout(
        () => reject(new SmkitError(`the algorithm did not stop within ${seconds} s of SIGTERM`)),
        seconds * 1000,
      ).unref();
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
  });
}

/** Moves every entry of `from` into `to` (rename, or copy across file systems). */
async function moveEntries(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    try {
      await rename(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'ENOTEMPTY' && code !== 'EISDIR') throw error;
      await cp(source, target, { recursive: true, force: true });
    }
  }
}

/**
 * Trains a built-in algorithm. The algorithm writes its model into a scratch directory that is moved
 * into /opt/ml/model only when `train` resolves, so a failed job leaves the model dir untouched.
 */
export async function runBuiltinAlgorithm(options: RunBuiltinOptions): Promise<void> {
  const { algorithm, log } = options;
  const hyperparameters = parseAlgorithmHyperparameters(
    algorithm,
    algorithmHyperparameters(options.hyperparameters),
  );
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'smkit-model-'));
  try {
    const context = createTrainContext({
      hyperparameters,
      channels: options.channels,
      hosts: options.cluster,
      hostWaitSeconds: options.settings.hostWaitSeconds,
      metrics: options.metrics,
      log: log.child({ algorithm: algorithm.name }),
      signal: options.signal,
      modelDir: scratch,
      outputDataDir: options.paths.outputData,
      checkpointDir: options.checkpointDir,
    });
    log.info({ algorithm: algorithm.name, hyperparameters }, 'training');
    await Promise.race([algorithm.train(context), stopDeadline(options.signal, options.graceSeconds)]);
    await moveEntries(scratch, options.paths.model);
    log.info({ model: options.paths.model }, 'model saved');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
