/**
 * `smkit deploy`: model -> endpoint config -> endpoint (or UpdateEndpoint when the endpoint exists),
 * waiting for InService, with auto scaling on the variant. Every request goes through the session, so
 * `--dry-run` prints exactly these requests.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetImageCommand } from '@aws-sdk/client-ecr';
import {
  type CreateEndpointConfigCommandInput,
  type CreateModelCommandInput,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  type ProductionVariant,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InputError, SmkitError } from '../util/errors.js';
import { checkImageRegion, parseImageUri, parseRoleArn, parseS3Uri } from './arns.js';
import { ensureBucket } from './default-bucket.js';
import { checkImageInEcr } from './image-check.js';
import { checkLocalModel } from './model-archive.js';
import { checkName, generateName } from './names.js';
import type { AwsSession, UploadProgress } from './session.js';

/** The variant smkit deploys (SageMaker's own default name). */
export const VARIANT_NAME = 'AllTraffic';

/** `--autoscale min=1,max=8,invocations-per-instance=N`. */
export interface AutoscaleSpec {
  readonly min: number;
  readonly max: number;
  readonly invocationsPerInstance: number;
}

/** `--serverless MEM,CONC`. */
export interface ServerlessSpec {
  readonly memoryMb: number;
  readonly maxConcurrency: number;
}

/** Everything `smkit deploy` takes. */
export interface DeployOptions {
  /** ECR image URI; or give `modelPackage`. */
  readonly image?: string;
  /** A local model.tar.gz or s3://...; optional with a model package. */
  readonly modelData?: string;
  /** A model package ARN (from `smkit register`) instead of image + model data. */
  readonly modelPackage?: string;
  /**
   * A multi-model endpoint (`Mode: MultiModel`, with `--image`): the S3 prefix that holds the model
   * archives (ModelDataUrl; InvokeEndpoint's TargetModel names an archive under it), or a local folder
   * whose `*.tar.gz` are checked and uploaded under `s3://BUCKET/smkit/ENDPOINT/models/`.
   */
  readonly multiModel?: string;
  readonly role: string;
  readonly endpointName?: string;
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly serverless?: ServerlessSpec;
  /** Async inference: where results go. */
  readonly asyncOutput?: string;
  readonly autoscale?: AutoscaleSpec;
  readonly environment?: Readonly<Record<string, string>>;
  /** Where a local archive is uploaded (default s3://sagemaker-REGION-ACCOUNT/smkit/ENDPOINT/). */
  readonly bucket?: string;
  /** Wait for InService (default true). */
  readonly wait?: boolean;
  readonly waitSeconds?: number;
  readonly pollSeconds?: number;
  readonly now?: Date;
  readonly onStatus?: (line: string) => void;
  readonly onUploadProgress?: UploadProgress;
}

/** What a deployment made. */
export interface DeployResult {
  readonly endpointName: string;
  readonly endpointConfigName: string;
  readonly modelName: string;
  readonly modelDataUrl?: string;
  readonly status: string;
  readonly updated: boolean;
  readonly failureReason?: string;
  readonly logLines?: readonly string[];
  readonly autoscaling?: { readonly resourceId: string; readonly policyName: string };
}

/** The Application Auto Scaling resource id of an endpoint's variant. */
export function variantResourceId(endpointName: string, variant = VARIANT_NAME): string {
  return `endpoint/${endpointName}/variant/${variant}`;
}

/** The name of the target-tracking policy deploy puts on an endpoint. */
export function scalingPolicyName(endpointName: string): string {
  return `${endpointName}-invocations-per-instance`;
}

/**
 * Parses `min=1,max=8,invocations-per-instance=100`; refuses min > max and anything else before any call.
 */
export function parseAutoscale(text: string): AutoscaleSpec {
  const values: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value = ''] = part.split('=').map((p) => p.trim());
    const number = Number(value);
    if (!key || !['min', 'max', 'invocations-per-instance'].includes(key)) {
      throw new InputError(`--autoscale: unknown key '${key}' (use min, max, invocations-per-instance)`);
    }
    if (
      value === '' ||
      !Number.isFinite(number) ||
      number <= 0 ||
      (key !== 'invocations-per-instance' && !Number.isInteger(number))
    ) {
      throw new InputError(
        `--autoscale: ${key} must be a positive ${key === 'invocations-per-instance' ? 'number' : 'integer'} (got '${value}')`,
      );
    }
    values[key] = number;
  }
  const { min = 1, max, 'invocations-per-instance': target } = values;
  if (max === undefined || target === undefined) {
    throw new InputError(
      '--autoscale needs max and invocations-per-instance, e.g. min=1,max=8,invocations-per-instance=100',
    );
  }
  if (min > max) throw new InputError(`--autoscale: min (${min}) is greater than max (${max})`);
  return { min, max, invocationsPerInstance: target };
}

/** Parses `--serverless 2048,5` (memory in MB: 1024-6144 in steps of 1024; max concurrency 1-200). */
export function parseServerless(text: string): ServerlessSpec {
  const [memory, concurrency] = text.split(',').map((p) => Number(p.trim()));
  if (!memory || ![1024, 2048, 3072, 4096, 5120, 6144].includes(memory)) {
    throw new InputError(`--serverless ${text}: memory must be 1024, 2048, 3072, 4096, 5120 or 6144 MB`);
  }
  if (!concurrency || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 200) {
    throw new InputError(`--serverless ${text}: max concurrency must be an integer 1-200`);
  }
  return { memoryMb: memory, maxConcurrency: concurrency };
}

/** The CPU architecture an instance type runs: Graviton families (`c7g`, `m6gd`, ...) are arm64. */
export function instanceArchitecture(instanceType: string): 'arm64' | 'amd64' {
  return /^ml\.[a-z]+\d+g[a-z]*\./.test(instanceType) ? 'arm64' : 'amd64';
}

function checkInstanceType(instanceType: string): void {
  if (!/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(instanceType)) {
    throw new InputError(
      `--instance-type '${instanceType}' is not a SageMaker instance type such as ml.m5.large`,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function checkOptions(options: DeployOptions): void {
  parseRoleArn(options.role);
  if (options.modelPackage) {
    if (!/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/.+/.test(options.modelPackage)) {
      throw new InputError(
        `--model-package '${options.modelPackage}' is not a model package ARN (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)`,
      );
    }
    if (options.image) throw new InputError('give --image or --model-package, not both');
    if (options.multiModel !== undefined)
      throw new InputError('--multi-model needs --image (a multi-model container), not --model-package');
  } else if (options.multiModel !== undefined) {
    if (!options.image) throw new InputError('--multi-model needs --image URI (a multi-model container)');
    if (options.modelData)
      throw new InputError(
        '--multi-model takes the models from its prefix or folder: give it or --model-data, not both',
      );
    if (options.serverless)
      throw new InputError('serverless endpoints cannot host multi-model endpoints: give --instance-type');
    if (options.multiModel.startsWith('s3://')) parseS3Uri(options.multiModel, '--multi-model');
  } else {
    if (!options.image) throw new InputError('give --image URI (and --model-data) or --model-package ARN');
    if (!options.modelData)
      throw new InputError('--model-data is required with --image (a model.tar.gz or s3:// URI)');
  }
  if (options.serverless) {
    if (options.instanceType)
      throw new InputError('--serverless endpoints have no --instance-type; give one or the other');
    if (options.autoscale)
      throw new InputError(
        '--autoscale applies to instance endpoints; serverless endpoints scale by themselves',
      );
  } else {
    if (!options.instanceType) throw new InputError('--instance-type is required (or --serverless MEM,CONC)');
    checkInstanceType(options.instanceType);
  }
  if (options.asyncOutput) parseS3Uri(options.asyncOutput, '--async');
  if (options.endpointName) checkName(options.endpointName, '--endpoint-name');
}

/**
 * Deploys a model: checks everything it can before the first call, uploads a local archive, creates
 * the model and endpoint config, creates the endpoint or updates it when it exists, waits, and sets up
 * auto scaling. Throws on a check or AWS failure; a Failed endpoint is a result with `failureReason`.
 */
export async function deploy(session: AwsSession, options: DeployOptions): Promise<DeployResult> {
  checkOptions(options);
  const region = await session.region();
  const image = options.image ? parseImageUri(options.image) : undefined;
  if (image) checkImageRegion(image, region);
  const status = options.onStatus ?? (() => undefined);

  const localArchive =
    options.modelData && !options.modelData.startsWith('s3://') ? options.modelData : undefined;
  if (localArchive) {
    const info = await stat(localArchive).catch(() => undefined);
    if (!info?.isFile())
      throw new InputError(`--model-data ${localArchive} is not a file; give a model.tar.gz or an s3:// URI`);
    const kind = await checkLocalModel(localArchive);
    status(`${localArchive}: ${kind} model, members at the root`);
  } else if (options.modelData) {
    parseS3Uri(options.modelData, '--model-data');
  }
  const localModels =
    options.multiModel !== undefined && !options.multiModel.startsWith('s3://')
      ? await checkModelFolder(options.multiModel, status)
      : undefined;

  const base = image ? (image.repository.split('/').at(-1) ?? 'smkit') : 'smkit-package';
  const endpointName = options.endpointName ?? generateName(base, options.now);
  const stamp = options.now ?? new Date();
  const modelName = generateName(endpointName, stamp);
  const endpointConfigName = generateName(`${endpointName}-config`, stamp);

  if (image) {
    await checkImageInEcr(session, image);
    await checkManifest(session, image, options);
  }

  let modelDataUrl = options.modelData;
  if (options.multiModel?.startsWith('s3://')) {
    // SageMaker reads ModelDataUrl + TargetModel: the prefix is a folder.
    modelDataUrl = options.multiModel.endsWith('/') ? options.multiModel : `${options.multiModel}/`;
  }
  if (localModels) {
    const bucket = await ensureBucket(
      session,
      options.bucket ?? `sagemaker-${region}-${await session.accountId()}`,
    );
    const prefix = `smkit/${endpointName}/models/`;
    for (const file of localModels) {
      status(`uploading ${file} to s3://${bucket}/${prefix}${path.basename(file)}`);
      await session.upload(file, bucket, `${prefix}${path.basename(file)}`, options.onUploadProgress);
    }
    modelDataUrl = `s3://${bucket}/${prefix}`;
  }
  if (localArchive) {
    const bucket = await ensureBucket(
      session,
      options.bucket ?? `sagemaker-${region}-${await session.accountId()}`,
    );
    const key = `smkit/${endpointName}/${path.basename(localArchive)}`;
    status(`uploading ${localArchive} to s3://${bucket}/${key}`);
    await session.upload(localArchive, bucket, key, options.onUploadProgress);
    modelDataUrl = `s3://${bucket}/${key}`;
  }

  const tags = [{ Key: 'smkit:endpoint', Value: endpointName }];
  const modelInput: CreateModelCommandInput = {
    ModelName: modelName,
    ExecutionRoleArn: options.role,
    PrimaryContainer: options.modelPackage
      ? {
          ModelPackageName: options.modelPackage,
          ...(options.environment ? { Environment: { ...options.environment } } : {}),
        }
      : {
          Image: image!.uri,
          ModelDataUrl: modelDataUrl,
          ...(options.multiModel !== undefined ? { Mode: 'MultiModel' as const } : {}),
          ...(options.multiModel !== undefined || options.environment
            ? {
                Environment: {
                  // smkit serve's switch (SageMaker's own containers read the same variable).
                  ...(options.multiModel !== undefined ? { SAGEMAKER_MULTI_MODEL: 'true' } : {}),
                  ...options.environment,
                },
              }
            : {}),
        },
    Tags: tags,
  };
  await session.call('sagemaker', new CreateModelCommand(modelInput));
  session.noteCreated({
    kind: 'model',
    name: modelName,
    remove: `aws sagemaker delete-model --model-name ${modelName} --region ${region}`,
  });

  const variant: ProductionVariant = options.serverless
    ? {
        VariantName: VARIANT_NAME,
        ModelName: modelName,
        ServerlessConfig: {
          MemorySizeInMB: options.serverless.memoryMb,
          MaxConcurrency: options.serverless.maxConcurrency,
        },
      }
    : {
        VariantName: VARIANT_NAME,
        ModelName: modelName,
        InstanceType: options.instanceType as ProductionVariant['InstanceType'],
        InitialInstanceCount: options.instanceCount ?? 1,
        InitialVariantWeight: 1,
      };
  const configInput: CreateEndpointConfigCommandInput = {
    EndpointConfigName: endpointConfigName,
    ProductionVariants: [variant],
    ...(options.asyncOutput
      ? { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: options.asyncOutput } } }
      : {}),
    Tags: tags,
  };
  await session.call('sagemaker', new CreateEndpointConfigCommand(configInput));
  session.noteCreated({
    kind: 'endpoint config',
    name: endpointConfigName,
    remove: `aws sagemaker delete-endpoint-config --endpoint-config-name ${endpointConfigName} --region ${region}`,
  });

  const existing = await session.lookup(
    'sagemaker',
    new DescribeEndpointCommand({ EndpointName: endpointName }),
  );
  if (existing) {
    status(
      `endpoint ${endpointName} exists (${existing.EndpointStatus}): updating it to ${endpointConfigName}`,
    );
    await session.call(
      'sagemaker',
      new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName }),
    );
  } else {
    await session.call(
      'sagemaker',
      new CreateEndpointCommand({
        EndpointName: endpointName,
        EndpointConfigName: endpointConfigName,
        Tags: tags,
      }),
    );
    session.noteCreated({
      kind: 'endpoint',
      name: endpointName,
      remove: `smkit teardown ${endpointName} --yes --region ${region}`,
    });
  }

  const result = {
    endpointName,
    endpointConfigName,
    modelName,
    ...(modelDataUrl ? { modelDataUrl } : {}),
    updated: Boolean(existing),
  };
  if (session.dryRun || options.wait === false) {
    if (options.autoscale && !session.dryRun)
      status('--autoscale needs the endpoint InService: run deploy again with waiting');
    if (options.autoscale && session.dryRun) {
      return {
        ...result,
        status: 'NotSent',
        autoscaling: await putAutoscaling(session, endpointName, options.autoscale),
      };
    }
    return { ...result, status: session.dryRun ? 'NotSent' : 'Creating' };
  }

  const final = await waitForEndpoint(session, endpointName, options);
  if (final.EndpointStatus === 'Failed') {
    const logLines = await lastLogLines(session, `/aws/sagemaker/Endpoints/${endpointName}`);
    return {
      ...result,
      status: 'Failed',
      failureReason: final.FailureReason ?? 'no FailureReason given',
      logLines,
    };
  }
  if (final.EndpointStatus !== 'InService') {
    throw new SmkitError(
      `endpoint ${endpointName} is still ${final.EndpointStatus} after ${options.waitSeconds ?? 1800} s; follow it with \`aws sagemaker describe-endpoint --endpoint-name ${endpointName}\` or remove it with \`smkit teardown ${endpointName} --yes\``,
    );
  }
  const autoscaling = options.autoscale
    ? await putAutoscaling(session, endpointName, options.autoscale)
    : undefined;
  return { ...result, status: 'InService', ...(autoscaling ? { autoscaling } : {}) };
}

/**
 * The `*.tar.gz` archives of a `--multi-model` folder, each checked as `--model-data` is (safe members
 * at the root, a model smkit serves). None is an error: the endpoint would have nothing to serve.
 */
async function checkModelFolder(folder: string, status: (line: string) => void): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => {
    throw new InputError(`--multi-model ${folder} is neither an s3:// prefix nor a folder of model archives`);
  });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tar.gz'))
    .map((entry) => path.join(folder, entry.name))
    .sort();
  if (files.length === 0) throw new InputError(`--multi-model ${folder} holds no *.tar.gz model archives`);
  for (const file of files) status(`${file}: ${await checkLocalModel(file)} model, members at the root`);
  return files;
}

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/**
 * Refuses an image whose tag is a multi-platform index (buildx provenance writes one), which SageMaker
 * cannot pull, saying whether it even holds the instance's architecture.
 */
async function checkManifest(
  session: AwsSession,
  image: ReturnType<typeof parseImageUri>,
  options: DeployOptions,
): Promise<void> {
  const got = await session.lookup(
    'ecr',
    new BatchGetImageCommand({
      registryId: image.account,
      repositoryName: image.repository,
      imageIds: [image.digest ? { imageDigest: image.digest } : { imageTag: image.tag! }],
      acceptedMediaTypes: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        ...INDEX_TYPES,
      ],
    }),
  );
  const text = got?.images?.[0]?.imageManifest;
  if (!text) return;
  let manifest: { mediaType?: string; manifests?: { platform?: { os?: string; architecture?: string } }[] };
  try {
    manifest = JSON.parse(text);
  } catch {
    return;
  }
  const mediaType = manifest.mediaType ?? got?.images?.[0]?.imageManifestMediaType ?? '';
  if (!INDEX_TYPES.includes(mediaType)) return;
  const platforms = (manifest.manifests ?? [])
    .map((m) => `${m.platform?.os}/${m.platform?.architecture}`)
    .filter((p) => !p.includes('unknown'));
  const wanted = options.instanceType ? instanceArchitecture(options.instanceType) : 'amd64';
  const has = platforms.includes(`linux/${wanted}`);
  throw new InputError(
    `${image.uri} is a multi-platform index (${platforms.join(', ') || 'no platforms'}), which SageMaker cannot pull; ${
      has
        ? `push it again with \`smkit push --platform linux/${wanted}\` (it replaces the index by its linux/${wanted} image)`
        : `and it has no linux/${wanted} image for ${options.instanceType ?? 'a serverless endpoint'} (it would fail with 'exec format error'): build one with --platform linux/${wanted}`
    }`,
  );
}

async function waitForEndpoint(
  session: AwsSession,
  endpointName: string,
  options: DeployOptions,
): Promise<DescribeEndpointCommandOutput> {
  const deadline = Date.now() + (options.waitSeconds ?? 1800) * 1000;
  let last = '';
  for (;;) {
    const described = await session.call(
      'sagemaker',
      new DescribeEndpointCommand({ EndpointName: endpointName }),
    );
    const now = described.EndpointStatus ?? 'Unknown';
    if (now !== last) options.onStatus?.(`endpoint ${endpointName}: ${now}`);
    last = now;
    if (now === 'InService' || now === 'Failed' || Date.now() >= deadline) return described;
    await sleep((options.pollSeconds ?? 15) * 1000);
  }
}

/** Registers the variant's instance count and puts the invocations-per-instance target-tracking policy. */
async function putAutoscaling(session: AwsSession, endpointName: string, spec: AutoscaleSpec) {
  const resourceId = variantResourceId(endpointName);
  await session.call(
    'application-autoscaling',
    new RegisterScalableTargetCommand({
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: spec.min,
      MaxCapacity: spec.max,
    }),
  );
  const policyName = scalingPolicyName(endpointName);
  await session.call(
    'application-autoscaling',
    new PutScalingPolicyCommand({
      PolicyName: policyName,
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: spec.invocationsPerInstance,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    }),
  );
  return { resourceId, policyName };
}

/**
 * The last lines of a log group's most recent streams (the endpoint's containers), oldest first;
 * empty when the group does not exist.
 */
export async function lastLogLines(session: AwsSession, logGroupName: string, limit = 20): Promise<string[]> {
  const streams = await session.lookup(
    'logs',
    new DescribeLogStreamsCommand({ logGroupName, orderBy: 'LastEventTime', descending: true, limit: 3 }),
  );
  const lines: string[] = [];
  for (const stream of streams?.logStreams ?? []) {
    if (!stream.logStreamName) continue;
    const events = await session.call(
      'logs',
      new GetLogEventsCommand({
        logGroupName,
        logStreamName: stream.logStreamName,
        limit,
        startFromHead: false,
      }),
    );
    for (const event of events.events ?? []) lines.push(`${stream.logStreamName} | ${event.message ?? ''}`);
  }
  return lines.slice(-limit);
}

/** The text `smkit deploy` prints for a result. */
export function describeDeploy(result: DeployResult): string {
  if (result.status === 'Failed') {
    return [
      `endpoint ${result.endpointName} Failed: ${result.failureReason}`,
      ...(result.logLines?.length
        ? ['last log lines of its containers:', ...result.logLines.map((l) => `  ${l}`)]
        : ['no container logs in CloudWatch (/aws/sagemaker/Endpoints/' + result.endpointName + ')']),
      `remove it with \`smkit teardown ${result.endpointName} --yes\``,
      '',
    ].join('\n');
  }
  return [
    `endpoint ${result.endpointName} ${result.status}${result.updated ? ' (updated)' : ''}`,
    `  model ${result.modelName}${result.modelDataUrl ? ` (${result.modelDataUrl})` : ''}`,
    `  endpoint config ${result.endpointConfigName}`,
    ...(result.autoscaling
      ? [`  auto scaling ${result.autoscaling.resourceId}: ${result.autoscaling.policyName}`]
      : []),
    `invoke: smkit invoke --endpoint ${result.endpointName} --content-type text/csv --body FILE`,
    '',
  ].join('\n');
}
