import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import {
  ChannelNameSchema,
  CompressionTypeSchema,
  RecordWrapperTypeSchema,
  S3DistributionTypeSchema,
  TrainingInputModeSchema,
} from './job-spec.js';
import type { SageMakerPaths } from './paths.js';

/** CreateTrainingJob accepts at most this many hyperparameters (the SDK's sagemaker_* entries count). */
export const MAX_HYPERPARAMETERS = 100;

function jsonKind(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}

/** hyperparameters.json: an object of strings (the platform always sends strings; local tools may not). */
export const HyperparametersFileSchema = z
  .record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean()]).transform((value) => String(value)),
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `expected a JSON object of hyperparameter names to string values, as {"k": "10"}; got ${jsonKind(issue.input)}`
          : undefined,
    },
  )
  .superRefine((record, context) => {
    const count = Object.keys(record).length;
    if (count > MAX_HYPERPARAMETERS) {
      context.addIssue({
        code: 'custom',
        message:
          `${count} hyperparameters, but SageMaker allows at most ${MAX_HYPERPARAMETERS} per training job ` +
          `(CreateTrainingJob refuses more; the SDK's sagemaker_* entries count): drop ${count - MAX_HYPERPARAMETERS} or more`,
      });
    }
  });

const CHANNEL_NAME_RULE = "channel names are 1 to 64 letters, digits, '.', '-' or '_' ([A-Za-z0-9.-_]{1,64})";

/** One entry of inputdataconfig.json. */
export const ChannelConfigSchema = z
  .object({
    ContentType: z.string().optional(),
    TrainingInputMode: TrainingInputModeSchema.default('File'),
    S3DistributionType: S3DistributionTypeSchema.default('FullyReplicated'),
    RecordWrapperType: RecordWrapperTypeSchema.default('None'),
    CompressionType: CompressionTypeSchema.optional(),
  })
  .refine((channel) => channel.CompressionType !== 'Gzip' || channel.TrainingInputMode === 'Pipe', {
    // CreateTrainingJob answers "Invalid compression type for channel train: File mode only supports
    // NONE, got Gzip instead"; local mode refuses the same, so a job tree saying so was not made by either.
    message:
      'CompressionType Gzip is used only in Pipe mode: SageMaker refuses it for File and FastFile mode ' +
      '(File mode only supports None); decompress the files, or use TrainingInputMode Pipe',
    path: ['CompressionType'],
  });
export type ChannelConfig = z.infer<typeof ChannelConfigSchema>;

/** inputdataconfig.json: channel name -> channel config. Bad names are named with the rule they break. */
export const InputDataConfigSchema = z
  .record(z.string(), ChannelConfigSchema)
  .superRefine((record, context) => {
    for (const name of Object.keys(record)) {
      if (!ChannelNameSchema.safeParse(name).success) {
        context.addIssue({
          code: 'custom',
          message: `channel name '${name}' is invalid: ${CHANNEL_NAME_RULE}`,
        });
      }
    }
  });
export type InputDataConfig = z.infer<typeof InputDataConfigSchema>;

/** resourceconfig.json. Hosts are sorted as SageMaker sorts them; the leader is `hosts[0]`. */
export const ResourceConfigSchema = z
  .object({
    current_host: z.string().min(1),
    hosts: z.array(z.string().min(1)).min(1),
    network_interface_name: z.string().default('eth0'),
    current_instance_type: z.string().optional(),
    current_group_name: z.string().optional(),
    instance_groups: z
      .array(
        z.object({ instance_group_name: z.string(), instance_type: z.string(), hosts: z.array(z.string()) }),
      )
      .optional(),
  })
  .refine((config) => config.hosts.includes(config.current_host), {
    message: 'current_host must be one of hosts',
  });
export type ResourceConfig = z.infer<typeof ResourceConfigSchema>;

/** checkpointconfig.json, present when checkpointing is configured. */
export const CheckpointConfigSchema = z.object({
  LocalPath: z.string().default('/opt/ml/checkpoints'),
  S3Uri: z.string().optional(),
});
export type CheckpointConfig = z.infer<typeof CheckpointConfigSchema>;

/** The single-host default used when resourceconfig.json is absent (local runs). */
export const SINGLE_HOST: ResourceConfig = Object.freeze({
  current_host: 'algo-1',
  hosts: ['algo-1'],
  network_interface_name: 'eth0',
});

/**
 * Reads and validates one JSON config file; `undefined` when it does not exist.
 * A malformed file throws an InputError naming the file and the broken rule.
 */
export async function readConfigFile<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
    throw new InputError(`${file} is invalid: ${issues}`);
  }
  return parsed.data;
}

/** Everything a training job is configured with, read once from input/config. */
export interface TrainingConfig {
  /** Raw strings as in hyperparameters.json. */
  readonly hyperparameters: Readonly<Record<string, string>>;
  readonly inputDataConfig: Readonly<InputDataConfig>;
  readonly resourceConfig: Readonly<ResourceConfig>;
  readonly checkpointConfig: Readonly<CheckpointConfig> | undefined;
}

/**
 * Reads the four config files of a training job. hyperparameters.json, inputdataconfig.json and
 * resourceconfig.json may be absent (empty, no channels, a single host); present ones must be valid.
 */
export async function readTrainingConfig(paths: SageMakerPaths): Promise<TrainingConfig> {
  const [hyperparameters, inputDataConfig, resourceConfig, checkpointConfig] = await Promise.all([
    readConfigFile(paths.hyperparameters, HyperparametersFileSchema),
    readConfigFile(paths.inputDataConfig, InputDataConfigSchema),
    readConfigFile(paths.resourceConfig, ResourceConfigSchema),
    readConfigFile(paths.checkpointConfig, CheckpointConfigSchema),
  ]);
  return deepFreeze({
    hyperparameters: hyperparameters ?? {},
    inputDataConfig: inputDataConfig ?? {},
    resourceConfig: resourceConfig ?? { ...SINGLE_HOST, hosts: [...SINGLE_HOST.hosts] },
    checkpointConfig,
  });
}

/** Freezes an object graph so configuration read once cannot be changed further down. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
