import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { algorithmNames, builtinAlgorithms } from '../../algorithms/index.js';
import { ENV } from '../contract/index.js';
import { InputError, errorMessage } from '../util/errors.js';
import { makeOwnedTempDir } from '../util/stale-temp-dirs.js';
import { tarDirectories } from './archives.js';
import { missingCommandMessage, isMissingCommand } from './docker.js';
import { type HostLauncher, hostAddressList } from './host-process.js';
import type { RawHyperparameters } from '../contract/hyperparameter-encoding.js';
import { jobHyperparameters } from '../contract/job-hyperparameters.js';
import { buildJobTrees, type HostTree } from './job-tree.js';
import { MetricCollector, type MetricSeries } from './metrics.js';
import type { ChannelSpec, MetricDefinition } from '../contract/job-spec.js';
import { type FeedReport, feedPipeChannel, mkfifo } from './pipe-feeder.js';
import { channelFifo } from '../contract/index.js';
import { parseProgressMetricLine } from '../contract/metric-lines.js';

/** What `smkit local train` runs: a built-in algorithm or a script-mode entry point. */
export interface LocalTrainOptions {
  readonly jobName: string;
  /** Built-in algorithm name (one of `builtinAlgorithms`: `kmeans`, `pca`); exclusive with `entryPoint`. */
  readonly algorithm?: string;
  /** Script mode: the entry file, relative to `sourceDir` when that is given. */
  readonly entryPoint?: string;
  readonly sourceDir?: string;
  readonly hyperparameters: RawHyperparameters;
  /** Keys whose values were typed on the command line (strings to be typed for script mode). */
  readonly hyperparametersFromCli?: ReadonlySet<string>;
  readonly channels: readonly ChannelSpec[];
  readonly hosts: number;
  /** MaxRuntimeInSeconds: SIGTERM when reached. */
  readonly maxRuntimeSeconds?: number;
  /** Seconds between SIGTERM and SIGKILL (SageMaker: 120). */
  readonly stopGraceSeconds?: number;
  /** Receives model.tar.gz and output.tar.gz. */
  readonly outputDir: string;
  readonly metricDefinitions: readonly MetricDefinition[];
  readonly launcher: HostLauncher;
  /** Docker image, for messages only. */
  readonly image?: string;
  /** Where host trees go (a temp dir by default, removed afterwards unless `keepTrees`). */
  readonly workDir?: string;
  readonly keepTrees?: boolean;
  /** Aborting stops the job as StopTrainingJob does (SIGTERM, then SIGKILL after the grace period). */
  readonly signal?: AbortSignal;
  readonly onLog?: (host: string, line: string) => void;
  readonly onMetric?: (host: string, name: string, value: number) => void;
  /** A host printed `#progress_metric: host=..., completed P % of epochs` (P in 0-100). */
  readonly onProgress?: (host: string, percent: number) => void;
}

/** How one host ended. */
export interface HostOutcome {
  readonly host: string;
  readonly exitCode: number;
  readonly failure: string | undefined;
}

/** A file written into the output directory. */
export interface Artifact {
  readonly file: string;
  readonly bytes: number;
  readonly members: readonly string[];
}

/** What DescribeTrainingJob would say about a local job. */
export interface LocalTrainResult {
  readonly jobName: string;
  readonly status: 'Completed' | 'Failed' | 'Stopped';
  readonly secondaryStatus: 'Completed' | 'Failed' | 'Stopped' | 'MaxRuntimeExceeded';
  readonly failureReason: string | undefined;
  readonly hosts: readonly HostOutcome[];
  readonly metrics: readonly MetricSeries[];
  readonly model: Artifact | undefined;
  readonly output: Artifact | undefined;
  readonly pipes: readonly (FeedReport & { host: string })[];
  readonly seconds: number;
  /** The hosts' /opt/ml trees, when kept for inspection. */
  readonly trees?: string;
}

const FAILURE_LIMIT = 1024;

function hyperparametersFor(options: LocalTrainOptions, baseDir: string): Record<string, string> {
  return jobHyperparameters({
    ...options,
    region: 'us-east-1',
    submitDirectory: path.posix.join(baseDir, 'code'),
  });
}

async function checkEntryPoint(options: LocalTrainOptions): Promise<void> {
  // An image of your own may train without either (its entry point decides, as on SageMaker).
  if (options.algorithm ? options.entryPoint : !options.entryPoint && !options.image) {
    throw new InputError(
      `give either --algorithm ${algorithmNames(builtinAlgorithms).join('|')} or --entry-point FILE` +
        (options.algorithm ? '' : ' (or --image IMAGE, whose entry point decides what it trains)'),
    );
  }
  if (!options.entryPoint) return;
  const file = options.sourceDir ? path.join(options.sourceDir, options.entryPoint) : options.entryPoint;
  if (!(await stat(file).catch(() => undefined))?.isFile()) {
    throw new InputError(
      `entry point ${file} does not exist; pass --entry-point FILE (relative to --source-dir when given)`,
    );
  }
}

async function readFailure(tree: HostTree): Promise<string | undefined> {
  const text = await readFile(tree.paths.failure, 'utf8').catch(() => undefined);
  return text?.trim() ? text.slice(0, FAILURE_LIMIT).trim() : undefined;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? os.constants.signals[signal] : 0);
}

/** SageMaker's FailureReason for a failed host: `AlgorithmError: <failure text>, exit code: N`. */
export function failureReason(outcome: HostOutcome): string {
  let text = outcome.failure ?? 'See job logs for more information';
  if (outcome.exitCode === 137 && !outcome.failure) {
    text += ' (killed with SIGKILL: most often the process ran out of memory)';
  }
  return `AlgorithmError: ${text}, exit code: ${outcome.exitCode}`;
}

function followLines(child: ChildProcess, onLine: (line: string) => void): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((s) => s !== null);
  return Promise.all(
    streams.map(
      (stream) =>
        new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
          lines.on('line', onLine);
          lines.on('close', resolve);
        }),
    ),
  ).then(() => undefined);
}

function waitForExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
}

/** Job trees of runs without `workDir` are `<tmp>/smkit-job-<pid>-<random>`; a killed run's are swept by the next. */
const JOB_DIR_PREFIX = 'smkit-job-';

/**
 * Runs a training job locally as SageMaker would: one /opt/ml tree and one process (or container) per
 * host, Pipe-mode channels fed through FIFOs, MaxRuntime enforced with SIGTERM then SIGKILL, metrics
 * parsed from the logs, and model.tar.gz / output.tar.gz written to `outputDir`.
 */
export async function runLocalTraining(options: LocalTrainOptions): Promise<LocalTrainResult> {
  const started = Date.now();
  await checkEntryPoint(options);
  const workDir =
    options.workDir ??
    (options.keepTrees
      ? // Kept trees carry no pid: they outlive this process and must not be swept.
        await mkdtemp(path.join(os.tmpdir(), `${JOB_DIR_PREFIX}kept-`))
      : await makeOwnedTempDir(JOB_DIR_PREFIX));
  try {
    const launcher = options.launcher;
    const trees = await buildJobTrees({
      root: workDir,
      hosts: options.hosts,
      hyperparameters: (paths) => hyperparametersFor(options, launcher.baseDir(paths)),
      channels: options.channels,
      ...(options.entryPoint && options.sourceDir ? { codeDir: options.sourceDir } : {}),
      ...(options.entryPoint && !options.sourceDir ? { codeFile: options.entryPoint } : {}),
    });
    const result = await runTrees(options, trees, launcher, started);
    return options.keepTrees ? { ...result, trees: workDir } : result;
  } finally {
    if (!options.keepTrees && !options.workDir) await rm(workDir, { recursive: true, force: true });
  }
}

async function runTrees(
  options: LocalTrainOptions,
  trees: readonly HostTree[],
  launcher: HostLauncher,
  started: number,
): Promise<LocalTrainResult> {
  const metrics = new MetricCollector(options.metricDefinitions);
  const feeding = new AbortController();
  const pipes: Promise<FeedReport & { host: string }>[] = [];
  let feedFailure: string | undefined;
  let stopHosts: (() => void) | undefined;
  for (const tree of trees) {
    for (const pipe of tree.pipes) {
      await mkfifo(channelFifo(tree.paths, pipe.channel.name, 0));
      pipes.push(
        feedPipeChannel(tree.paths, pipe, feeding.signal).then(
          (report) => ({ ...report, host: tree.host }),
          (error: unknown) => {
            // As on SageMaker, data that cannot be delivered fails the job: the hosts are stopped.
            feedFailure ??= `ClientError: ${errorMessage(error)}`;
            stopHosts?.();
            return { channel: pipe.channel.name, epochs: 0, bytes: 0, host: tree.host };
          },
        ),
      );
    }
  }
  const env: Record<string, string> = {
    [ENV.trainingJobName]: options.jobName,
    [ENV.hostAddresses]: hostAddressList(trees),
    ...(options.algorithm ? { [ENV.algorithm]: options.algorithm } : {}),
  };
  let stopReason: 'Stopped' | 'MaxRuntimeExceeded' | undefined;
  await launcher.prepare?.(path.dirname(trees[0]!.paths.base), trees, (message) =>
    options.onLog?.('smkit', message),
  );
  const children = trees.map((tree) => launcher.start(tree, env));
  let failedOnce = false;
  const killTimers: NodeJS.Timeout[] = [];
  const stopAll = () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) launcher.stop(child);
    const grace = (options.stopGraceSeconds ?? 120) * 1000;
    killTimers.push(
      setTimeout(() => {
        for (const [i, child] of children.entries()) launcher.kill(child, trees[i]!);
      }, grace).unref(),
    );
  };
  stopHosts = () => {
    if (!failedOnce && !stopReason) {
      failedOnce = true;
      stopAll();
    }
  };
  if (feedFailure) stopHosts();
  const stop = (reason: 'Stopped' | 'MaxRuntimeExceeded') => {
    if (stopReason) return;
    stopReason = reason;
    stopAll();
  };
  const runtime =
    options.maxRuntimeSeconds === undefined
      ? undefined
      : setTimeout(() => stop('MaxRuntimeExceeded'), options.maxRuntimeSeconds * 1000);
  const onAbort = () => stop('Stopped');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const stderrTails = trees.map(() => [] as string[]);
  const exits = children.map(async (child, i) => {
    const tree = trees[i]!;
    const logs = followLines(child, (line) => {
      const tail = stderrTails[i]!;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onLog?.(tree.host, line);
      for (const { name, value } of metrics.line(line)) options.onMetric?.(tree.host, name, value);
      const progress = options.onProgress && parseProgressMetricLine(line);
      if (progress) options.onProgress?.(tree.host, progress.percent);
    });
    const code = await waitForExit(child);
    await logs;
    if (code !== 0 && !failedOnce && !stopReason) {
      // SageMaker fails the job when one host fails; the others are stopped.
      failedOnce = true;
      stopAll();
    }
    return code;
  });
  const codes = await Promise.all(exits);
  if (runtime) clearTimeout(runtime);
  for (const timer of killTimers) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  feeding.abort();
  const fed = await Promise.all(pipes);

  const hosts: HostOutcome[] = [];
  for (const [i, tree] of trees.entries()) {
    hosts.push({ host: tree.host, exitCode: codes[i]!, failure: await readFailure(tree) });
  }
  const firstFailed = hosts.find((host) => host.exitCode !== 0);
  let failure = feedFailure ?? (firstFailed && !stopReason ? failureReason(firstFailed) : undefined);
  if (
    failure &&
    options.image &&
    firstFailed &&
    !firstFailed.failure &&
    isMissingCommand(firstFailed.exitCode, stderrTails[hosts.indexOf(firstFailed)]!.join('\n'))
  ) {
    failure = missingCommandMessage(options.image, 'train');
  }
  const status = stopReason ? 'Stopped' : failure ? 'Failed' : 'Completed';
  await mkdir(options.outputDir, { recursive: true });
  const pack = async (name: string, dirs: { label: string; dir: string }[]): Promise<Artifact> => {
    const file = path.join(options.outputDir, name);
    const members = await tarDirectories(dirs, file);
    return { file, bytes: (await stat(file)).size, members };
  };
  let model: Artifact | undefined;
  if (status !== 'Failed') {
    try {
      model = await pack(
        'model.tar.gz',
        trees.map((tree) => ({ label: tree.host, dir: tree.paths.model })),
      );
    } catch (error) {
      failure = `ClientError: ${(error as Error).message}`;
    }
  }
  const output = await pack(
    'output.tar.gz',
    trees.map((tree) => ({ label: tree.host, dir: tree.paths.outputData })),
  );
  const finalStatus = failure && status === 'Completed' ? 'Failed' : status;
  return {
    jobName: options.jobName,
    status: finalStatus,
    secondaryStatus: stopReason ?? finalStatus,
    failureReason:
      failure ??
      (stopReason === 'MaxRuntimeExceeded'
        ? `MaxRuntimeExceeded: the job ran longer than MaxRuntimeInSeconds (${options.maxRuntimeSeconds} s) and was stopped`
        : undefined),
    hosts,
    metrics: metrics.results(),
    model,
    output,
    pipes: fed,
    seconds: (Date.now() - started) / 1000,
  };
}
