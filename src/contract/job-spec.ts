import { z } from 'zod';

/**
 * The parts of a SageMaker training job spec that local mode and the AWS commands both build:
 * channels (as in CreateTrainingJob's InputDataConfig and the container's inputdataconfig.json),
 * metric definitions and resource limits. One schema each; the CLI's string syntax for them lives
 * in src/cli/job-flags.ts.
 */

/** A channel name as SageMaker allows it. */
export const ChannelNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9.\-_]{1,64}$/, 'channel names match [A-Za-z0-9.-_]{1,64}');

/** Channel.InputMode / TrainingInputMode. */
export const TrainingInputModeSchema = z.enum(['File', 'Pipe', 'FastFile']);
export type TrainingInputMode = z.infer<typeof TrainingInputModeSchema>;

/** S3DataSource.S3DataDistributionType. */
export const S3DistributionTypeSchema = z.enum(['FullyReplicated', 'ShardedByS3Key']);
export type S3DistributionType = z.infer<typeof S3DistributionTypeSchema>;

/** Channel.RecordWrapperType. */
export const RecordWrapperTypeSchema = z.enum(['None', 'RecordIO']);
export type RecordWrapperType = z.infer<typeof RecordWrapperTypeSchema>;

/** Channel.CompressionType. */
export const CompressionTypeSchema = z.enum(['None', 'Gzip']);
export type CompressionType = z.infer<typeof CompressionTypeSchema>;

/** Where a channel's data comes from: a local directory or an `s3://bucket/prefix` URI. */
export const ChannelSourceSchema = z.string().min(1, 'a channel needs a directory or an s3:// URI');

/** True for `s3://bucket[/prefix]`. */
export function isS3Uri(source: string): boolean {
  return /^s3:\/\/[^/]+/.test(source);
}

/** One training channel, as `--channel NAME=DIR|s3://...[,options]` describes it. */
export const ChannelSpecSchema = z
  .object({
    name: ChannelNameSchema,
    /** A local directory or an s3:// URI. */
    source: ChannelSourceSchema,
    mode: TrainingInputModeSchema.default('File'),
    contentType: z.string().min(1).optional(),
    distribution: S3DistributionTypeSchema.default('FullyReplicated'),
    wrapper: RecordWrapperTypeSchema.default('None'),
    compression: CompressionTypeSchema.default('None'),
    /** ShuffleConfig.Seed: shuffle the order of the channel's objects with this seed. */
    shuffleSeed: z.number().int().min(0).optional(),
  })
  .refine((channel) => channel.compression !== 'Gzip' || channel.mode === 'Pipe', {
    message:
      'compression=Gzip works only with mode=Pipe, as on SageMaker; decompress the files or add mode=Pipe',
    path: ['compression'],
  });
export type ChannelSpec = z.output<typeof ChannelSpecSchema>;

/** MetricDefinition.Name: 1 to 255 characters. */
export const MetricNameSchema = z.string().min(1).max(255);

/** MetricDefinition.Regex: a regex that compiles, up to 500 characters (messages read after 'the regex is'). */
export const MetricRegexSchema = z
  .string()
  .min(1, 'empty')
  .max(500, 'longer than 500 characters')
  .superRefine((regex, context) => {
    try {
      new RegExp(regex);
    } catch (error) {
      context.addIssue({ code: 'custom', message: `invalid: ${(error as Error).message}` });
    }
  });

/** A SageMaker MetricDefinition: CloudWatch metric `Name` is the first capture group of `Regex` in the logs. */
export const MetricDefinitionSchema = z.object({ Name: MetricNameSchema, Regex: MetricRegexSchema });
export type MetricDefinition = z.infer<typeof MetricDefinitionSchema>;

/** MetricDefinitions of one algorithm specification: at most 40. */
export const MetricDefinitionsSchema = z.array(MetricDefinitionSchema).max(40);

/** StoppingCondition.MaxRuntimeInSeconds: 1 s to 28 days. */
export const MAX_RUNTIME_LIMIT_SECONDS = 28 * 24 * 3600;

/** Seconds between SIGTERM and SIGKILL when a job is stopped or runs out of time. */
export const STOP_GRACE_SECONDS = 120;

/** The resources of a training job: how many hosts, how long. */
export const ResourceLimitsSchema = z.object({
  /** ResourceConfig.InstanceCount (algo-1..algo-N). */
  instanceCount: z.number().int().min(1).default(1),
  /** StoppingCondition.MaxRuntimeInSeconds. */
  maxRuntimeSeconds: z.number().positive().max(MAX_RUNTIME_LIMIT_SECONDS).optional(),
});
export type ResourceLimits = z.output<typeof ResourceLimitsSchema>;
