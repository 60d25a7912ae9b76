import { mkdir, readdir, stat } from 'node:fs/promises';
import { algorithmNames, builtinAlgorithms, findAlgorithm } from '../../algorithms/index.js';
import type { Algorithm } from '../../algorithms/types.js';
import {
  DEFAULT_BASE_DIR,
  decodeHyperparameters,
  ENV,
  type Env,
  type HyperparameterValue,
  hyperparameterText,
  isPlatformHyperparameter,
  isSmkitHyperparameter,
  readTrainingConfig,
  readTrainingSettings,
  resolvePaths,
  type SageMakerPaths,
  type TrainingConfig,
  type TrainingSettings,
} from '../contract/index.js';
import { InputError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/log.js';
import { createCluster, waitForPeers } from './cluster.js';
import { clearFailure, describeFailure, EXIT, writeFailure } from './failure.js';
import { createMetricsWriter } from './metrics.js';
import { buildScriptEnvironment, SCRIPT_MODE_KEYS } from './script-env.js';
import { runScript } from './script-mode.js';
import { listenForStop } from './stop.js';

/** Options of {@link runTrainingJob}. */
export interface RunTrainingJobOptions {
  /** The process environment (passed on to user scripts and the AWS SDK's credential chain). */
  readonly env: Env;
  /** Settings read from `env`; read here when absent so that bad values also end in output/failure. */
  readonly settings?: TrainingSettings;
  readonly log?: Logger;
  /** The algorithms `smkit_algorithm` / `SMKIT_ALGORITHM` may name (default: the built-ins). */
  readonly algorithms?: readonly Algorithm[];
}

/** What a job runs: a user script or a built-in algorithm. */
export type TrainingJobKind =
  | { readonly kind: 'script'; readonly program: string; readonly submitDirectory: string | undefined }
  | { readonly kind: 'builtin'; readonly algorithm: string };

function stringParameter(
  hyperparameters: Readonly<Record<string, HyperparameterValue>>,
  key: string,
): string | undefined {
  const value = hyperparameters[key];
  if (value === undefined || value === null || value === '') return undefined;
  return hyperparameterText(value);
}

/**
 * Decides what a job runs: script mode when `sagemaker_program` or `SAGEMAKER_PROGRAM` is set, else the
 * built-in algorithm named by `smkit_algorithm` or `SMKIT_ALGORITHM`. With none, an InputError that says
 * how to choose.
 */
export function chooseJobKind(
  hyperparameters: Readonly<Record<string, HyperparameterValue>>,
  settings: TrainingSettings,
  algorithms: readonly Algorithm[] = builtinAlgorithms,
): TrainingJobKind {
  const program = stringParameter(hyperparameters, SCRIPT_MODE_KEYS.program) ?? settings.program;
  if (program) {
    return {
      kind: 'script',
      program,
      submitDirectory: stringParameter(hyperparameters, SCRIPT_MODE_KEYS.submitDirectory),
    };
  }
  const algorithm = stringParameter(hyperparameters, 'smkit_algorithm') ?? settings.algorithm;
  if (algorithm) return { kind: 'builtin', algorithm };
  const names = algorithmNames(algorithms);
  throw new InputError(
    'nothing to train: set the hyperparameter smkit_algorithm (or the image env SMKIT_ALGORITHM) to a ' +
      `built-in algorithm (${names.length ? names.join(', ') : 'none registered'}), or run your own ` +
      'script with sagemaker_program (or SAGEMAKER_PROGRAM) and sagemaker_submit_directory',
  );
}

async function requireConfigDir(paths: SageMakerPaths): Promise<void> {
  const isDir = await stat(paths.inputConfig).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new InputError(
      `${paths.inputConfig} does not exist: SageMaker writes the job's configuration there ` +
        `(hyperparameters.json, inputdataconfig.json, resourceconfig.json); for a local run set ` +
        `${ENV.baseDir} to the job tree`,
    );
  }
}

/** The checkpoint dir (checkpointconfig.json LocalPath, else /opt/ml/checkpoints), created if missing. */
async function prepareCheckpointDir(config: TrainingConfig, paths: SageMakerPaths): Promise<string> {
  const configured = config.checkpointConfig?.LocalPath;
  // LocalPath is an absolute /opt/ml path in the platform's terms; keep it under a relocated base.
  const dir =
    configured && paths.base !== DEFAULT_BASE_DIR && configured.startsWith(`${DEFAULT_BASE_DIR}/`)
      ? paths.base + configured.slice(DEFAULT_BASE_DIR.length)
      : (configured ?? paths.checkpoints);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function countGpus(): Promise<number> {
  return readdir('/proc/driver/nvidia/gpus').then(
    (entries) => entries.length,
    () => 0,
  );
}

/** Splits decoded hyperparameters into the user's and the unknown `sagemaker_*` framework parameters. */
function splitHyperparameters(decoded: Readonly<Record<string, HyperparameterValue>>) {
  const user: Record<string, HyperparameterValue> = {};
  const framework: Record<string, HyperparameterValue> = {};
  const known = new Set<string>(Object.values(SCRIPT_MODE_KEYS));
  for (const [key, value] of Object.entries(decoded)) {
    if (key.startsWith('sagemaker_')) {
      if (!known.has(key)) framework[key] = value;
    } else if (!isPlatformHyperparameter(key) && !isSmkitHyperparameter(key)) {
      user[key] = value;
    }
  }
  return { user, framework };
}

/**
 * Runs a training job as `docker run IMAGE train` does: reads the config once, waits for peer hosts,
 * then runs the user script or the built-in algorithm. Any failure ends in output/failure (unless user
 * code wrote one) and a non-zero exit code, which is returned.
 */
export async function runTrainingJob(options: RunTrainingJobOptions): Promise<number> {
  const { env, algorithms = builtinAlgorithms } = options;
  const paths = resolvePaths(options.settings?.baseDir ?? env[ENV.baseDir] ?? DEFAULT_BASE_DIR);
  let log = options.log ?? createLogger(options.settings?.logLevel ?? 20);
  const stop = listenForStop(log);
  const fail = async (text: string, exitCode: number): Promise<number> => {
    const wrote = await writeFailure(paths.failure, text).catch((error: unknown) => {
      log.error({ err: error }, 'cannot write the failure file');
      return false;
    });
    log.error({ exitCode, failure: wrote ? paths.failure : 'written by user code' }, text.split('\n')[0]);
    return exitCode;
  };
  try {
    const settings = options.settings ?? readTrainingSettings(env);
    if (!options.log)
      log = createLogger(settings.logLevel, settings.jobName ? { job: settings.jobName } : {});
    await clearFailure(paths.failure);
    await requireConfigDir(paths);
    const config = await readTrainingConfig(paths);
    const decoded = decodeHyperparameters(config.hyperparameters);
    const job = chooseJobKind(decoded, settings, algorithms);
    const algorithm = job.kind === 'builtin' ? findAlgorithm(algorithms, job.algorithm) : undefined;
    if (job.kind === 'builtin' && !algorithm) {
      const names = algorithmNames(algorithms);
      throw new InputError(
        `unknown algorithm '${job.algorithm}' (smkit_algorithm / ${ENV.algorithm}); built-in algorithms: ` +
          `${names.length ? names.join(', ') : 'none registered'}`,
      );
    }
    const cluster = createCluster(config.resourceConfig, settings.hostAddresses);
    await waitForPeers(cluster, { waitSeconds: settings.hostWaitSeconds, log, signal: stop.signal });
    const checkpointDir = await prepareCheckpointDir(config, paths);
    await Promise.all([paths.model, paths.outputData].map((dir) => mkdir(dir, { recursive: true })));
    if (stop.signal.aborted) return await fail('training stopped by SIGTERM before it started', EXIT.stopped);

    if (job.kind === 'script') {
      if (job.submitDirectory) {
        // tar and the AWS SDK load only when there is code to fetch.
        const { prepareCodeDir } = await import('../io/archive/code-dir.js');
        await prepareCodeDir({
          submitDirectory: job.submitDirectory,
          codeDir: paths.code,
          region: stringParameter(decoded, SCRIPT_MODE_KEYS.region) ?? settings.region,
          endpoint: settings.s3Endpoint,
          maxExtractBytes: settings.maxExtractBytes,
          log,
        });
      }
      if (!stop.signal.aborted) {
        const { installUserDependencies } = await import('./user-dependencies.js');
        await installUserDependencies({ codeDir: paths.code, env, log, signal: stop.signal });
      }
      if (stop.signal.aborted)
        return await fail('training stopped by SIGTERM before the script started', EXIT.stopped);
      const { user, framework } = splitHyperparameters(decoded);
      const logLevel = Number(stringParameter(decoded, SCRIPT_MODE_KEYS.logLevel) ?? settings.logLevel);
      const script = buildScriptEnvironment({
        paths,
        config,
        cluster,
        hyperparameters: user,
        frameworkParameters: framework,
        entryPoint: job.program,
        codeDir: paths.code,
        checkpointDir,
        logLevel: Number.isFinite(logLevel) ? logLevel : 20,
        jobName: stringParameter(decoded, SCRIPT_MODE_KEYS.jobName) ?? settings.jobName,
        numCpus: settings.cpuCount,
        numGpus: await countGpus(),
      });
      const outcome = await runScript({
        entryPoint: job.program,
        codeDir: paths.code,
        env,
        script,
        stop: stop.signal,
        log,
      });
      return outcome.failure === undefined ? outcome.exitCode : await fail(outcome.failure, outcome.exitCode);
    }

    // Loaded only for built-ins: script jobs start faster without the record codecs.
    const [{ runBuiltinAlgorithm }, { createChannels }] = await Promise.all([
      import('./builtin.js'),
      import('./channels.js'),
    ]);
    await runBuiltinAlgorithm({
      algorithm: algorithm!,
      hyperparameters: config.hyperparameters,
      paths,
      settings,
      channels: createChannels({
        paths,
        inputDataConfig: config.inputDataConfig,
        settings,
        log,
        signal: stop.signal,
      }),
      cluster,
      metrics: createMetricsWriter(),
      log,
      signal: stop.signal,
      checkpointDir,
    });
    if (stop.signal.aborted) {
      return await fail(
        `training stopped by SIGTERM (StopTrainingJob, MaxRuntimeInSeconds or a spot interruption); ` +
          `checkpoints are in ${checkpointDir}`,
        EXIT.stopped,
      );
    }
    log.info('training complete');
    return EXIT.ok;
  } catch (error) {
    if (stop.signal.aborted) {
      return await fail(`training stopped by SIGTERM: ${describeFailure(error)}`, EXIT.stopped);
    }
    return await fail(describeFailure(error), EXIT.failed);
  } finally {
    stop.dispose();
  }
}
