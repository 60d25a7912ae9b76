import os from 'node:os';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { deepFreeze } from './config.js';
import { DEFAULT_MAX_PAYLOAD_IN_MB, DEFAULT_MODEL_SERVER_TIMEOUT_SECONDS } from './limits.js';
import { DEFAULT_BASE_DIR } from './paths.js';
import { type BatchStrategy, parseBatchStrategy } from './transform.js';

/** The environment as a plain map; tests pass their own instead of `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Every environment variable smkit reads, by name. Nothing else in the code reads `process.env`. */
export const ENV = Object.freeze({
  baseDir: 'SAGEMAKER_BASE_DIR',
  algorithm: 'SMKIT_ALGORITHM',
  program: 'SAGEMAKER_PROGRAM',
  submitDirectory: 'SAGEMAKER_SUBMIT_DIRECTORY',
  region: 'SAGEMAKER_REGION',
  awsRegion: 'AWS_REGION',
  logLevel: 'SAGEMAKER_CONTAINER_LOG_LEVEL',
  trainingJobName: 'TRAINING_JOB_NAME',
  trainingJobArn: 'TRAINING_JOB_ARN',
  bindToPort: 'SAGEMAKER_BIND_TO_PORT',
  safePortRange: 'SAGEMAKER_SAFE_PORT_RANGE',
  modelServerWorkers: ['SAGEMAKER_MODEL_SERVER_WORKERS', 'MODEL_SERVER_WORKERS'],
  modelServerTimeout: ['SAGEMAKER_MODEL_SERVER_TIMEOUT', 'MODEL_SERVER_TIMEOUT'],
  defaultAccept: 'SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT',
  maxPayloadInMb: 'SAGEMAKER_MAX_PAYLOAD_IN_MB',
  multiModel: 'SAGEMAKER_MULTI_MODEL',
  /** Multi-model endpoints: the memory budget for loaded models, in MiB (default: from the container limit). */
  multiModelMemoryMb: 'SMKIT_MULTI_MODEL_MEMORY_MB',
  batch: 'SAGEMAKER_BATCH',
  batchStrategy: 'SAGEMAKER_BATCH_STRATEGY',
  maxConcurrentTransforms: 'SAGEMAKER_MAX_CONCURRENT_TRANSFORMS',
  pipeWaitSeconds: 'SMKIT_PIPE_WAIT_SECONDS',
  hostWaitSeconds: 'SMKIT_HOST_WAIT_SECONDS',
  /** Local mode: `algo-1=127.0.0.2,algo-2=127.0.0.3`, how hosts find each other without DNS. */
  hostAddresses: 'SMKIT_HOST_ADDRESSES',
  logFormat: 'SMKIT_LOG_FORMAT',
  /** Most bytes an archive (sourcedir.tar.gz, model.tar.gz) may unpack to; default: the target's free space. */
  maxExtractBytes: 'SMKIT_MAX_EXTRACT_BYTES',
  s3Endpoint: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
} as const);

function first(env: Env, names: string | readonly string[]): string | undefined {
  for (const name of typeof names === 'string' ? [names] : names) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

const positiveNumber = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).positive(`${name} must be > 0`);

/** Settings shared by `train` and `serve`. */
export interface CommonSettings {
  /** Root of the contract tree (`SAGEMAKER_BASE_DIR`, default /opt/ml). */
  readonly baseDir: string;
  /** Built-in algorithm baked into the image (`SMKIT_ALGORITHM`). */
  readonly algorithm: string | undefined;
  /** AWS region for S3 downloads (`SAGEMAKER_REGION`, then `AWS_REGION`). */
  readonly region: string | undefined;
  /** Python-style numeric log level (`SAGEMAKER_CONTAINER_LOG_LEVEL`, default 20 = info). */
  readonly logLevel: number;
  readonly cpuCount: number;
  /**
   * An S3 endpoint other than AWS's (`AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`): moto, MinIO. Both
   * commands fetch user code from S3 (training's sourcedir, serving's SAGEMAKER_SUBMIT_DIRECTORY).
   */
  readonly s3Endpoint: string | undefined;
  /**
   * Most bytes an archive may unpack to (`SMKIT_MAX_EXTRACT_BYTES`); `undefined`: the free space of the
   * target file system. A tar bomb is refused at its first header, naming this budget.
   */
  readonly maxExtractBytes: number | undefined;
}

/** Settings of a training run. */
export interface TrainingSettings extends CommonSettings {
  readonly jobName: string | undefined;
  /** How long to wait for a Pipe-mode FIFO to appear (`SMKIT_PIPE_WAIT_SECONDS`, default 600). */
  readonly pipeWaitSeconds: number;
  /** How long to wait for peer host names to resolve (`SMKIT_HOST_WAIT_SECONDS`, default 900). */
  readonly hostWaitSeconds: number;
  /**
   * Host name -> IP address to reach it at (`SMKIT_HOST_ADDRESSES`), set by `smkit local train` when
   * the names cannot resolve; `undefined` on SageMaker, where the names resolve by DNS.
   */
  readonly hostAddresses: Readonly<Record<string, string>> | undefined;
  readonly program: string | undefined;
}

const ipAddress = z.union([z.ipv4(), z.ipv6()]);
const HOST_ADDRESSES_FORMAT = 'HOST=IP pairs separated by commas, as in algo-1=127.0.0.2,algo-2=127.0.0.3';

/**
 * `SMKIT_HOST_ADDRESSES` as `hostAddressList` (src/local) writes it: `algo-1=127.0.0.2,algo-2=127.0.0.3`.
 * Each pair names a host once and gives an IPv4 or IPv6 literal, so peers are reached without DNS.
 */
export const HostAddressesSchema = z.string().transform((text, context) => {
  const addresses: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const match = /^\s*([^\s=]+)\s*=\s*(\S+)\s*$/.exec(pair);
    const problem = !match
      ? `'${pair}' is not HOST=IP`
      : match[1]! in addresses
        ? `host ${match[1]} appears twice`
        : !ipAddress.safeParse(match[2]).success
          ? `'${match[2]}' (host ${match[1]}) is not an IPv4 or IPv6 address`
          : undefined;
    if (problem) {
      context.addIssue({ code: 'custom', message: `${problem}; expected ${HOST_ADDRESSES_FORMAT}` });
      return z.NEVER;
    }
    addresses[match![1]!] = match![2]!;
  }
  return addresses;
});

function parseHostAddresses(text: string): Record<string, string> {
  const parsed = HostAddressesSchema.safeParse(text);
  if (parsed.success) return parsed.data;
  throw new InputError(
    `${ENV.hostAddresses}='${text}' is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
  );
}

/** Settings of a serving process (real-time or batch). */
export interface ServingSettings extends CommonSettings {
  readonly port: number;
  readonly workers: number;
  readonly timeoutSeconds: number;
  readonly defaultAccept: string;
  readonly maxPayloadBytes: number;
  readonly multiModel: boolean;
  /**
   * Multi-model endpoints: bytes the loaded models may hold (`SMKIT_MULTI_MODEL_MEMORY_MB`); `undefined`
   * means the default, a share of the container's memory limit (`src/serve/multi-model/memory-limit.ts`).
   */
  readonly multiModelMemoryBytes: number | undefined;
  readonly batch: boolean;
  /** SAGEMAKER_BATCH_STRATEGY in the API's spelling (the variable may say MULTI_RECORD or MultiRecord). */
  readonly batchStrategy: BatchStrategy | undefined;
  readonly maxConcurrentTransforms: number | undefined;
  readonly program: string | undefined;
  readonly submitDirectory: string | undefined;
}

function common(env: Env): CommonSettings {
  const logLevel = first(env, ENV.logLevel);
  return {
    baseDir: first(env, ENV.baseDir) ?? DEFAULT_BASE_DIR,
    algorithm: first(env, ENV.algorithm),
    region: first(env, ENV.region) ?? first(env, ENV.awsRegion),
    logLevel: logLevel === undefined ? 20 : z.coerce.number().int().parse(logLevel),
    cpuCount: os.availableParallelism(),
    s3Endpoint: first(env, ENV.s3Endpoint),
    maxExtractBytes: readMaxExtractBytes(env),
  };
}

/** `SMKIT_MAX_EXTRACT_BYTES` as a whole number of bytes; `undefined` when unset (free space decides). */
export function readMaxExtractBytes(env: Env): number | undefined {
  const value = first(env, ENV.maxExtractBytes);
  if (value === undefined) return undefined;
  const parsed = z.coerce.number().int().positive().safeParse(value);
  if (!parsed.success) {
    throw new InputError(`${ENV.maxExtractBytes}='${value}' must be a whole number of bytes > 0`);
  }
  return parsed.data;
}

/** Reads the training settings once; throws a ZodError-derived message naming the variable on bad values. */
export function readTrainingSettings(env: Env): TrainingSettings {
  const pipe = first(env, ENV.pipeWaitSeconds);
  const hosts = first(env, ENV.hostWaitSeconds);
  const addresses = first(env, ENV.hostAddresses);
  return deepFreeze({
    ...common(env),
    jobName: first(env, ENV.trainingJobName),
    pipeWaitSeconds: pipe === undefined ? 600 : positiveNumber(ENV.pipeWaitSeconds).parse(pipe),
    hostWaitSeconds: hosts === undefined ? 900 : positiveNumber(ENV.hostWaitSeconds).parse(hosts),
    hostAddresses: addresses === undefined ? undefined : parseHostAddresses(addresses),
    program: first(env, ENV.program),
  });
}

function readBatchStrategy(text: string): BatchStrategy {
  const strategy = parseBatchStrategy(text);
  if (strategy) return strategy;
  throw new InputError(`${ENV.batchStrategy}='${text}' is invalid: expected MULTI_RECORD or SINGLE_RECORD`);
}

/**
 * Serving processes of a batch transform container unless MODEL_SERVER_WORKERS says otherwise: one,
 * computing on every core: its HTTP thread and a pool thread per other core (`inlineWhenBusy`). With a
 * process per core, batch transform's keep-alive connections all reached the process that listened
 * first (node:cluster keeps a connection on one process), whose one pool thread took every mini-batch
 * in turn while the others idled, each holding model copies.
 */
export const BATCH_DEFAULT_WORKERS = 1;

/** Worker threads in each serving process's pool: the cores shared among the processes, at least 1. */
export function poolThreadsPerProcess(settings: Pick<ServingSettings, 'workers' | 'cpuCount'>): number {
  return Math.max(1, Math.floor(settings.cpuCount / settings.workers));
}

/** Reads the serving settings once. */
export function readServingSettings(env: Env): ServingSettings {
  const base = common(env);
  const port = first(env, ENV.bindToPort);
  const workers = first(env, ENV.modelServerWorkers);
  const timeout = first(env, ENV.modelServerTimeout);
  const payload = first(env, ENV.maxPayloadInMb);
  const strategy = first(env, ENV.batchStrategy);
  const transforms = first(env, ENV.maxConcurrentTransforms);
  const modelMemory = first(env, ENV.multiModelMemoryMb);
  const batch = first(env, ENV.batch)?.toLowerCase() === 'true';
  return deepFreeze({
    ...base,
    port: port === undefined ? 8080 : z.coerce.number().int().min(1).max(65535).parse(port),
    workers:
      workers !== undefined
        ? z.coerce.number().int().min(1).parse(workers)
        : batch
          ? BATCH_DEFAULT_WORKERS
          : base.cpuCount,
    timeoutSeconds:
      timeout === undefined
        ? DEFAULT_MODEL_SERVER_TIMEOUT_SECONDS
        : positiveNumber(ENV.modelServerTimeout[0]).parse(timeout),
    defaultAccept: first(env, ENV.defaultAccept) ?? 'application/json',
    maxPayloadBytes: Math.round(
      (payload === undefined ? DEFAULT_MAX_PAYLOAD_IN_MB : z.coerce.number().min(0).parse(payload)) *
        1024 *
        1024,
    ),
    multiModel: first(env, ENV.multiModel)?.toLowerCase() === 'true',
    multiModelMemoryBytes:
      modelMemory === undefined
        ? undefined
        : Math.round(positiveNumber(ENV.multiModelMemoryMb).parse(modelMemory) * 1024 * 1024),
    batch,
    batchStrategy: strategy === undefined ? undefined : readBatchStrategy(strategy),
    maxConcurrentTransforms:
      transforms === undefined ? undefined : z.coerce.number().int().min(1).parse(transforms),
    program: first(env, ENV.program),
    submitDirectory: first(env, ENV.submitDirectory),
  });
}
