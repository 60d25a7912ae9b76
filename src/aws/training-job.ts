import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Channel, CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { builtinAlgorithms, findAlgorithm } from '../../algorithms/index.js';
import { ENV } from '../contract/index.js';
import { type JobHyperparameterOptions, jobHyperparameters } from '../contract/job-hyperparameters.js';
import type { ChannelSpec, MetricDefinition } from '../contract/job-spec.js';
import { listFiles } from '../local/job-tree.js';
import { algorithmHyperparameters, parseAlgorithmHyperparameters } from '../train/builtin.js';
import { InputError } from '../util/errors.js';
import { parseS3Uri } from './arns.js';
import { type PlannedUpload, s3Join } from './job-uploads.js';

/** SageMaker's defaults, as the Python SDK's Estimator applies them. */
export const TRAINING_DEFAULTS = Object.freeze({
  /** Estimator max_run: 24 hours. */
  maxRuntimeSeconds: 86_400,
  volumeSizeGb: 30,
  checkpointLocalPath: '/opt/ml/checkpoints',
});

/** What `smkit train-job` asks for: the flags of `smkit local train`, plus where on AWS it runs. */
export interface TrainingJobOptions extends Omit<JobHyperparameterOptions, 'submitDirectory'> {
  readonly image: string;
  /** `source` is an `s3://` prefix or a local directory, uploaded before the job starts. */
  readonly channels: readonly ChannelSpec[];
  readonly roleArn: string;
  readonly instanceCount: number;
  readonly instanceType: string;
  readonly volumeSizeGb?: number;
  readonly maxRuntimeSeconds?: number;
  /** Managed spot training; needs `maxWaitSeconds`. */
  readonly spot?: boolean;
  readonly maxWaitSeconds?: number;
  /** `s3://` URI that SageMaker syncs /opt/ml/checkpoints with. */
  readonly checkpointUri?: string;
  /** S3OutputPath (checked by the caller): model.tar.gz lands in `<output>/<job>/output/model.tar.gz`. */
  readonly outputPath: string;
  /** `s3://bucket/prefix` under which local channels and sourcedir.tar.gz are uploaded. */
  readonly stagingPrefix: string;
  readonly metricDefinitions: readonly MetricDefinition[];
}

/** Everything a training job needs, decided before any AWS call. */
export interface TrainingJobPlan {
  readonly uploads: readonly PlannedUpload[];
  /** Script mode: sourcedir.tar.gz is built from these and uploaded to `sourceArchiveUri`. */
  readonly source?: { readonly dir: string; readonly members: readonly string[]; readonly uri: string };
  readonly request: CreateTrainingJobCommandInput;
}

/**
 * The hyperparameters a job sends, encoded as the SageMaker Python SDK does and exactly as
 * `smkit local train` writes them, except `sagemaker_submit_directory` (here the S3 URI of sourcedir.tar.gz).
 * Built-ins are checked against the algorithm's own schema first: a rejected value fails here, not on an
 * instance that is already billed.
 */
export async function trainingHyperparameters(
  options: Omit<JobHyperparameterOptions, 'submitDirectory'>,
  submitDirectory: string,
): Promise<Record<string, string>> {
  const encoded = jobHyperparameters({ ...options, submitDirectory });
  if (options.algorithm) {
    const algorithm = findAlgorithm(builtinAlgorithms, options.algorithm);
    if (!algorithm) throw new InputError(`--algorithm ${options.algorithm}: no such built-in algorithm`);
    parseAlgorithmHyperparameters(algorithm, algorithmHyperparameters(encoded));
  }
  return encoded;
}

/** A channel as CreateTrainingJob takes it: the same fields `smkit local train` writes to inputdataconfig.json. */
export function trainingChannel(channel: ChannelSpec, uri: string): Channel {
  return {
    ChannelName: channel.name,
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix',
        S3Uri: uri,
        S3DataDistributionType: channel.distribution,
      },
    },
    ...(channel.contentType ? { ContentType: channel.contentType } : {}),
    InputMode: channel.mode,
    RecordWrapperType: channel.wrapper,
    ...(channel.compression === 'Gzip' ? { CompressionType: 'Gzip' as const } : {}),
    ...(channel.shuffleSeed !== undefined ? { ShuffleConfig: { Seed: channel.shuffleSeed } } : {}),
  };
}

async function localChannel(channel: ChannelSpec, staging: string): Promise<PlannedUpload> {
  const info = await stat(channel.source).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(
      `channel '${channel.name}': ${channel.source} is neither an s3:// URI nor a directory; pass --channel ${channel.name}=s3://bucket/prefix or =DIR`,
    );
  }
  const files = await listFiles(channel.source);
  if (files.length === 0) {
    throw new InputError(`channel '${channel.name}': directory ${channel.source} holds no files to upload`);
  }
  return {
    what: `channel ${channel.name}`,
    local: channel.source,
    files,
    uri: `${s3Join(staging, 'input', channel.name)}/`,
  };
}

async function sourceFiles(options: TrainingJobOptions): Promise<{ dir: string; members: string[] }> {
  const file = options.sourceDir ? path.join(options.sourceDir, options.entryPoint!) : options.entryPoint!;
  if (!(await stat(file).catch(() => undefined))?.isFile()) {
    throw new InputError(
      `entry point ${file} does not exist; pass --entry-point FILE (relative to --source-dir when given)`,
    );
  }
  if (!options.sourceDir) return { dir: path.dirname(file), members: [path.basename(file)] };
  return { dir: options.sourceDir, members: await listFiles(options.sourceDir) };
}

function stoppingCondition(options: TrainingJobOptions): CreateTrainingJobCommandInput['StoppingCondition'] {
  if (!options.spot) {
    if (options.maxWaitSeconds !== undefined) throw new InputError('--max-wait applies to --spot jobs only');
    return { MaxRuntimeInSeconds: options.maxRuntimeSeconds ?? TRAINING_DEFAULTS.maxRuntimeSeconds };
  }
  if (options.maxWaitSeconds === undefined) {
    throw new InputError('--spot needs --max-wait SECONDS: how long to wait for spot capacity plus the run');
  }
  const runtime =
    options.maxRuntimeSeconds ?? Math.min(options.maxWaitSeconds, TRAINING_DEFAULTS.maxRuntimeSeconds);
  if (options.maxWaitSeconds < runtime) {
    throw new InputError(
      `--max-wait (${options.maxWaitSeconds} s) must be >= --max-runtime (${runtime} s): it includes the run itself`,
    );
  }
  return { MaxRuntimeInSeconds: runtime, MaxWaitTimeInSeconds: options.maxWaitSeconds };
}

/**
 * Plans a training job without calling AWS: validates the entry point or the algorithm's hyperparameters,
 * the channels, spot and checkpoint settings, lists what to upload, and builds the CreateTrainingJob request.
 */
export async function planTrainingJob(options: TrainingJobOptions): Promise<TrainingJobPlan> {
  // Neither: the image's own entry point decides what it trains (a container of your own).
  if (options.algorithm && options.entryPoint) {
    throw new InputError('give either --algorithm NAME or --entry-point FILE, not both');
  }
  if (options.checkpointUri !== undefined) parseS3Uri(options.checkpointUri, '--checkpoint');
  const names = new Set<string>();
  const uploads: PlannedUpload[] = [];
  const channels: Channel[] = [];
  for (const channel of options.channels) {
    if (names.has(channel.name)) throw new InputError(`channel '${channel.name}' is given twice`);
    names.add(channel.name);
    if (channel.source.startsWith('s3://')) {
      parseS3Uri(channel.source, `--channel ${channel.name}`);
      channels.push(trainingChannel(channel, channel.source));
    } else {
      const upload = await localChannel(channel, options.stagingPrefix);
      uploads.push(upload);
      channels.push(trainingChannel(channel, upload.uri));
    }
  }
  let source: TrainingJobPlan['source'];
  if (options.entryPoint) {
    const files = await sourceFiles(options);
    source = { ...files, uri: s3Join(options.stagingPrefix, 'source', 'sourcedir.tar.gz') };
  }
  const hyperparameters = await trainingHyperparameters(options, source?.uri ?? '');
  const request: CreateTrainingJobCommandInput = {
    TrainingJobName: options.jobName,
    RoleArn: options.roleArn,
    AlgorithmSpecification: {
      TrainingImage: options.image,
      TrainingInputMode: 'File',
      MetricDefinitions: options.metricDefinitions.map((d) => ({ Name: d.Name, Regex: d.Regex })),
    },
    HyperParameters: hyperparameters,
    ...(channels.length ? { InputDataConfig: channels } : {}),
    OutputDataConfig: { S3OutputPath: options.outputPath },
    ResourceConfig: {
      InstanceType: options.instanceType as NonNullable<
        CreateTrainingJobCommandInput['ResourceConfig']
      >['InstanceType'],
      InstanceCount: options.instanceCount,
      VolumeSizeInGB: options.volumeSizeGb ?? TRAINING_DEFAULTS.volumeSizeGb,
    },
    StoppingCondition: stoppingCondition(options),
    ...(options.spot ? { EnableManagedSpotTraining: true } : {}),
    ...(options.checkpointUri
      ? {
          CheckpointConfig: {
            S3Uri: options.checkpointUri,
            LocalPath: TRAINING_DEFAULTS.checkpointLocalPath,
          },
        }
      : {}),
    ...(options.algorithm ? { Environment: { [ENV.algorithm]: options.algorithm } } : {}),
  };
  return { uploads, ...(source ? { source } : {}), request };
}
