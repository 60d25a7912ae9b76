import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { builtinAlgorithms, findAlgorithm } from '../../algorithms/index.js';
import type { Env } from '../contract/index.js';
import { InputError, SmkitError } from '../util/errors.js';
import {
  addTrainingJobFlags,
  addTransformFlags,
  collect,
  numberOption,
  parseChannel,
  parseMetricDefinitions,
  readHyperparameterFlags,
} from './job-flags.js';

// The local-mode modules load only when a local command runs, so `smkit train` / `serve` start fast.
const load = {
  docker: () => import('../local/docker.js'),
  hosts: () => import('../local/host-process.js'),
  tree: () => import('../local/job-tree.js'),
  endpoint: () => import('../local/local-endpoint.js'),
  report: () => import('../local/report.js'),
  train: () => import('../local/train-job.js'),
  invoke: () => import('../local/invoke.js'),
  progress: () => import('./progress.js'),
};

/** What the local commands need from the process that runs them. */
export interface CliContext {
  readonly env: Env;
  /** How to start smkit itself (`node bin/smkit`), for `train`/`serve` subprocesses. */
  readonly smkitCommand: readonly string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs a command body; a SmkitError becomes one line on stderr and exit code 1. */
export function reportErrors(context: CliContext, name: string, body: () => Promise<number>): Promise<void> {
  return body().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (!(error instanceof SmkitError)) throw error;
      context.stderr.write(`smkit ${name}: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}

/** Ctrl-C or SIGTERM as an AbortSignal: stops a job as StopTrainingJob would, or an endpoint. */
async function stopSignal(): Promise<{ signal: AbortSignal; dispose(): void }> {
  const [{ listenForStop }, { createLogger }] = await Promise.all([
    import('../train/stop.js'),
    import('../util/log.js'),
  ]);
  return listenForStop(createLogger());
}

function registerTrain(local: Command, context: CliContext): void {
  const train = local
    .command('train')
    .description(
      'run a training job locally as SageMaker runs it: /opt/ml per host, Pipe FIFOs, limits, artifacts',
    );
  addTrainingJobFlags(train)
    .option('--hosts <n>', 'number of hosts (algo-1..algo-N)', numberOption(1, true), 1)
    .option('--output <dir>', 'where model.tar.gz and output.tar.gz go', 'smkit-output')
    .option('--image <image>', 'run `docker run --network host IMAGE train` per host instead of smkit train')
    .option('--keep', 'keep the /opt/ml trees (printed) for inspection')
    .option('--json', 'print the result as JSON on stdout')
    .action((options) =>
      reportErrors(context, 'local train', async () => {
        const [
          { checkDocker },
          { dockerLauncher, subprocessLauncher },
          { hostAddress, hostNames },
          { describeTraining },
          { runLocalTraining },
          { createStatusLine, renderTrainingProgress },
        ] = await Promise.all([
          load.docker(),
          load.hosts(),
          load.tree(),
          load.report(),
          load.train(),
          load.progress(),
        ]);
        if (options.image) await checkDocker();
        const { values, cliKeys } = await readHyperparameterFlags(options);
        const jobName =
          options.jobName ?? `smkit-local-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
        const hosts: number = options.hosts;
        const addresses = hostNames(hosts).map((host, i) => ({
          host,
          address: hostAddress(i),
        }));
        const status = createStatusLine(context.stderr, Boolean(context.stderr.isTTY) && !options.json);
        const progress: Record<string, number> = {};
        const started = Date.now();
        const stop = await stopSignal();
        try {
          const result = await runLocalTraining({
            jobName,
            algorithm: options.algorithm,
            entryPoint: options.entryPoint,
            sourceDir: options.sourceDir,
            hyperparameters: values,
            hyperparametersFromCli: cliKeys,
            channels: (options.channel ?? []).map(parseChannel),
            hosts,
            maxRuntimeSeconds: options.maxRuntime,
            outputDir: path.resolve(options.output),
            metricDefinitions: options.metricDefinitions
              ? parseMetricDefinitions(options.metricDefinitions)
              : // SageMaker applies a built-in's own MetricDefinitions when the job gives none.
                (findAlgorithm(builtinAlgorithms, options.algorithm ?? '')?.metricDefinitions ?? []),
            launcher: options.image
              ? dockerLauncher(options.image, jobName, addresses)
              : subprocessLauncher(context.smkitCommand, context.env, process.getuid?.()),
            image: options.image,
            keepTrees: options.keep,
            signal: stop.signal,
            onLog: (host, line) => status.log(`${host} | ${line}`),
            onProgress: (host, percent) => {
              progress[host] = percent;
              const names = addresses.map((a) => a.host);
              status.show(renderTrainingProgress(names, progress, (Date.now() - started) / 1000));
            },
          });
          status.done();
          context.stdout.write(
            options.json ? `${JSON.stringify(result, null, 2)}\n` : describeTraining(result),
          );
          return result.status === 'Completed' ? 0 : 1;
        } finally {
          status.done();
          stop.dispose();
        }
      }),
    );
}

/** `--env A=1 --env B=2` as an object; a value may hold commas (`--env 'X=a,b'` is one pair). */
export function envFrom(pairs: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SmkitError(`--env expects KEY=VALUE (got '${pair}')`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function registerServe(local: Command, context: CliContext): void {
  local
    .command('serve')
    .description("serve a model as a SageMaker endpoint would, enforcing SageMaker's limits")
    .option('--model <file|dir>', 'model.tar.gz or a model directory (this or --multi-model is required)')
    .option(
      '--multi-model <dir>',
      'a multi-model endpoint over this folder of model archives (invoke with --target-model)',
    )
    .option('--port <port>', 'port clients use', numberOption(0, true), 8080)
    .option('--image <image>', 'run `docker run --network host IMAGE serve` instead of smkit serve')
    .option('--env <KEY=VALUE>', 'environment for the model server (repeatable)', collect)
    .option(
      '--startup-timeout <seconds>',
      'ContainerStartupHealthCheckTimeoutInSeconds',
      numberOption(1, false),
      240,
    )
    .action((options) =>
      reportErrors(context, 'local serve', async () => {
        const [{ checkDocker }, { startLocalEndpoint }] = await Promise.all([load.docker(), load.endpoint()]);
        if (Boolean(options.model) === Boolean(options.multiModel)) {
          throw new SmkitError(
            'smkit local serve needs exactly one of --model FILE|DIR and --multi-model DIR',
          );
        }
        if (options.image) await checkDocker();
        const endpoint = await startLocalEndpoint({
          ...(options.model ? { model: options.model } : { multiModel: options.multiModel }),
          port: options.port,
          image: options.image,
          smkitCommand: context.smkitCommand,
          env: envFrom(options.env),
          parentEnv: context.env,
          limits: { startupMs: options.startupTimeout * 1000 },
          onLog: (line) => context.stderr.write(`model | ${line}\n`),
          onViolation: (v) => context.stderr.write(`limit | ${v.limit} on ${v.path}: ${v.message}\n`),
        });
        const stop = await stopSignal();
        try {
          await Promise.race([
            endpoint.ready,
            new Promise((resolve) => stop.signal.addEventListener('abort', resolve)),
          ]);
          if (!stop.signal.aborted) {
            context.stdout.write(
              `Endpoint InService at ${endpoint.url} (POST /invocations); Ctrl-C stops it\n`,
            );
            await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
          }
          return 0;
        } finally {
          stop.dispose();
          await endpoint.close();
        }
      }),
    );
}

function registerInvoke(local: Command, context: CliContext): void {
  local
    .command('invoke')
    .description('POST one request to /invocations, as InvokeEndpoint does')
    .option('--endpoint <url>', 'endpoint URL', 'http://127.0.0.1:8080')
    .requiredOption('--content-type <type>', 'Content-Type of the body')
    .option('--accept <type>', 'Accept')
    .requiredOption('--body <file|->', 'request body file, or - for stdin')
    .option('--custom-attributes <text>', 'X-Amzn-SageMaker-Custom-Attributes')
    .option('--target-model <archive>', 'multi-model endpoints: the model archive (TargetModel), as a.tar.gz')
    .action((options) =>
      reportErrors(context, 'local invoke', async () => {
        const { invokeEndpoint } = await load.invoke();
        const answer = await invokeEndpoint({
          endpoint: options.endpoint,
          contentType: options.contentType,
          accept: options.accept,
          body: options.body === '-' ? await readStdin() : await readBodyFile(options.body),
          customAttributes: options.customAttributes,
          targetModel: options.targetModel,
        });
        if (answer.status >= 200 && answer.status < 300) {
          context.stdout.write(answer.body);
          return 0;
        }
        context.stderr.write(
          `smkit local invoke: the model answered ${answer.status} (InvokeEndpoint would raise ModelError): ${answer.body.toString('utf8')}\n`,
        );
        return 1;
      }),
    );
}

/** The --body file, or a one-line InputError saying which file could not be read and why. */
export async function readBodyFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new InputError(`cannot read --body ${file}: ${why}`);
  }
}

/** All of stdin, for `--body -`. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function registerTransform(local: Command, context: CliContext): void {
  const transform = local
    .command('transform')
    .description('run a batch transform over a directory: X.out per input file X')
    .option(
      '--model <file|dir>',
      'start an endpoint for this model, SAGEMAKER_BATCH=true (this or --endpoint is required)',
    )
    .option('--endpoint <url>', 'or use a running endpoint')
    .option('--image <image>', 'with --model: run the image instead of smkit serve')
    .option('--env <KEY=VALUE>', 'with --model: environment for the model server (repeatable)', collect)
    .requiredOption('--input <dir>', 'input files')
    .requiredOption('--output <dir>', 'where X.out files go');
  addTransformFlags(transform)
    .option('--json', 'print the result as JSON on stdout')
    .action((options) =>
      reportErrors(context, 'local transform', async () => {
        if (!options.model === !options.endpoint) throw new SmkitError('give either --model or --endpoint');
        const [{ checkDocker }, { transformWithModel }, { describeTransform }] = await Promise.all([
          load.docker(),
          load.invoke(),
          load.report(),
        ]);
        if (options.image) await checkDocker();
        const { createStatusLine, renderTransformProgress } = await load.progress();
        const status = createStatusLine(context.stderr, Boolean(context.stderr.isTTY) && !options.json);
        let shownFile = -1;
        const result = await transformWithModel(
          {
            endpoint: options.endpoint,
            input: options.input,
            output: options.output,
            contentType: options.contentType,
            accept: options.accept,
            splitType: options.splitType,
            strategy: options.strategy,
            maxPayloadMb: options.maxPayload,
            concurrency: options.concurrency,
            assembleWith: options.assembleWith,
            inputFilter: options.inputFilter,
            joinSource: options.joinSource,
            outputFilter: options.outputFilter,
            onProgress: (p) => {
              status.show(renderTransformProgress(p));
              // Without a terminal, one line per file.
              if (!context.stderr.isTTY && p.filesDone !== shownFile) {
                shownFile = p.filesDone;
                status.log(`file ${p.filesDone + 1}/${p.files} ${p.file}`);
              }
            },
          },
          {
            model: options.model,
            image: options.image,
            env: envFrom(options.env),
            smkitCommand: context.smkitCommand,
            parentEnv: context.env,
            onLog: (line) => status.log(`model | ${line}`),
          },
        ).finally(() => status.done());
        context.stdout.write(
          options.json ? `${JSON.stringify(result, null, 2)}\n` : describeTransform(result),
        );
        return result.failures.length ? 1 : 0;
      }),
    );
}

/** Adds `smkit local train|serve|invoke|transform`. */
export function registerLocalCommands(program: Command, context: CliContext): void {
  const local = program
    .command('local')
    .description('run training jobs, endpoints and batch transforms locally, stricter than SageMaker itself');
  registerTrain(local, context);
  registerServe(local, context);
  registerInvoke(local, context);
  registerTransform(local, context);
}
