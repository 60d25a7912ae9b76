/**
 * `smkit train-job` and `smkit transform-job`: the flags of `smkit local train` / `smkit local transform`
 * (so a job proven locally runs on SageMaker by dropping the word `local`), plus where on AWS it runs.
 * Everything is checked before the first request; the requests are built by src/aws.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { AwsSession } from '../aws/session.js';
import { InputError } from '../util/errors.js';
import { type AwsFlags, addAwsOptions, runAwsCommand } from './aws-options.js';
import {
  addTrainingJobFlags,
  addTransformFlags,
  collect,
  dataProcessingFromFlags,
  numberOption,
  type TrainingJobFlags,
  type TransformFlags,
} from './job-flags.js';
import { type CliContext, envFrom } from './local-commands.js';

/** Log lines and status changes while waiting go to stderr; the summary goes to stdout. */
function progressPrinter(context: CliContext) {
  return {
    onLine: (host: string, line: string) => context.stderr.write(`${host} | ${line}\n`),
    onStatus: (status: string) => context.stderr.write(`status: ${status}\n`),
    onStep: (message: string) => context.stderr.write(`${message}\n`),
  };
}

/** The S3 prefix a job's staged inputs go under: the given output's bucket, else the SDK's default bucket. */
async function stagingPrefix(
  session: AwsSession,
  output: string | undefined,
  jobName: string,
): Promise<string> {
  const { s3Join } = await import('../aws/job-uploads.js');
  if (output?.startsWith('s3://')) return s3Join(output, jobName);
  const { defaultBucket } = await import('../aws/default-bucket.js');
  return `s3://${await defaultBucket(session)}/${jobName}`;
}

interface TrainJobFlags extends AwsFlags, TrainingJobFlags {
  readonly image: string;
  readonly algorithm?: string;
  readonly role: string;
  readonly instanceCount?: number;
  readonly hosts?: number;
  readonly instanceType: string;
  readonly volumeSize?: number;
  readonly spot?: boolean;
  readonly maxWait?: number;
  readonly checkpoint?: string;
  readonly output?: string;
  readonly wait?: boolean;
  readonly download?: string;
  readonly pollSeconds?: number;
}

function registerTrainJob(program: Command, context: CliContext): void {
  const command: Command = program
    .command('train-job')
    .description(
      'run a training job on SageMaker with the flags of `smkit local train`: hyperparameters checked by the algorithm first, local channels and code uploaded, logs streamed with --wait',
    )
    .requiredOption('--image <uri>', 'ECR image URI (TrainingImage)');
  addTrainingJobFlags(command)
    .requiredOption('--role <arn>', 'execution role ARN SageMaker assumes')
    .requiredOption('--instance-type <type>', 'e.g. ml.m5.large')
    .option('--instance-count <n>', 'number of hosts (algo-1..algo-N)', numberOption(1, true))
    .addOption(
      new Option('--hosts <n>', 'same as --instance-count (the local train flag)').argParser(
        numberOption(1, true),
      ),
    )
    .option('--volume-size <gb>', 'VolumeSizeInGB (default 30)', numberOption(1, true))
    .option('--spot', 'managed spot training (needs --max-wait)')
    .option('--max-wait <seconds>', 'spot: MaxWaitTimeInSeconds, including the run', numberOption(1, true))
    .option('--checkpoint <s3-uri>', 'CheckpointConfig S3Uri, synced with /opt/ml/checkpoints')
    .option(
      '--output <s3-uri|dir>',
      'S3OutputPath; a local directory instead means: default bucket, wait, and download model.tar.gz there',
    )
    .option('--wait', 'wait for the end, streaming the CloudWatch log lines; exit 1 unless Completed')
    .option('--download <dir>', 'with --wait: download model.tar.gz into DIR and extract it into DIR/model')
    .addOption(
      new Option('--poll-seconds <s>', 'seconds between DescribeTrainingJob calls')
        .default(5)
        .argParser(numberOption(0, false))
        .hideHelp(),
    );
  addAwsOptions(command).action((flags: TrainJobFlags) =>
    runAwsCommand(context, 'train-job', flags, async (session) => {
      const [
        { parseChannel, parseMetricDefinitions, readHyperparameterFlags },
        { parseImageUri, parseRoleArn, parseS3Uri, checkImageRegion },
        { checkName, generateName },
        { builtinAlgorithms, findAlgorithm },
        { planTrainingJob },
        { runTrainingJob },
        { describeTrainingJob },
      ] = await Promise.all([
        import('./job-flags.js'),
        import('../aws/arns.js'),
        import('../aws/names.js'),
        import('../../algorithms/index.js'),
        import('../aws/training-job.js'),
        import('../aws/run-jobs.js'),
        import('../aws/job-report.js'),
      ]);
      // Everything the flags can get wrong is refused here, before the first request.
      const image = parseImageUri(flags.image);
      const role = parseRoleArn(flags.role);
      if (
        flags.instanceCount !== undefined &&
        flags.hosts !== undefined &&
        flags.instanceCount !== flags.hosts
      ) {
        throw new InputError('--hosts and --instance-count say different things; give one');
      }
      const localOutput =
        flags.output !== undefined && !flags.output.startsWith('s3://') ? flags.output : undefined;
      if (localOutput && flags.download)
        throw new InputError('give --output DIR or --download DIR, not both');
      const download = flags.download ?? localOutput;
      const wait = Boolean(flags.wait || download);
      const { values, cliKeys } = await readHyperparameterFlags(flags);
      const channels = (flags.channel ?? []).map(parseChannel);
      const metricDefinitions = flags.metricDefinitions
        ? parseMetricDefinitions(flags.metricDefinitions)
        : [...(findAlgorithm(builtinAlgorithms, flags.algorithm ?? '')?.metricDefinitions ?? [])];
      const jobName = flags.jobName
        ? checkName(flags.jobName, '--job-name')
        : generateName(image.repository.split('/').pop()!);
      const region = await session.region();
      checkImageRegion(image, region);
      const options = {
        jobName,
        image: image.uri,
        ...(flags.algorithm ? { algorithm: flags.algorithm } : {}),
        ...(flags.entryPoint ? { entryPoint: flags.entryPoint } : {}),
        ...(flags.sourceDir ? { sourceDir: flags.sourceDir } : {}),
        hyperparameters: values,
        hyperparametersFromCli: cliKeys,
        channels,
        roleArn: role.arn,
        region,
        instanceCount: flags.instanceCount ?? flags.hosts ?? 1,
        instanceType: flags.instanceType,
        ...(flags.volumeSize !== undefined ? { volumeSizeGb: flags.volumeSize } : {}),
        ...(flags.maxRuntime !== undefined ? { maxRuntimeSeconds: flags.maxRuntime } : {}),
        ...(flags.spot ? { spot: true } : {}),
        ...(flags.maxWait !== undefined ? { maxWaitSeconds: flags.maxWait } : {}),
        ...(flags.checkpoint ? { checkpointUri: flags.checkpoint } : {}),
        metricDefinitions,
      };
      const s3Output = flags.output?.startsWith('s3://') ? flags.output : undefined;
      if (s3Output) parseS3Uri(s3Output, '--output');
      // A first plan with placeholder S3 locations checks everything without a request.
      await planTrainingJob({
        ...options,
        outputPath: s3Output ?? 's3://placeholder-bucket/',
        stagingPrefix: `s3://placeholder-bucket/${jobName}`,
      });
      const { checkImageInEcr } = await import('../aws/image-check.js');
      await checkImageInEcr(session, image);
      const staging = await stagingPrefix(session, s3Output, jobName);
      const plan = await planTrainingJob({
        ...options,
        outputPath: s3Output ?? `${staging.slice(0, staging.lastIndexOf('/'))}/`,
        stagingPrefix: staging,
      });
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once('SIGINT', onSigint);
      try {
        const outcome = await runTrainingJob(session, plan, {
          wait,
          ...progressPrinter(context),
          pollMs: (flags.pollSeconds ?? 5) * 1000,
          signal: stop.signal,
          ...(download ? { download: path.resolve(download) } : {}),
        });
        return {
          text: describeTrainingJob(outcome),
          json: outcome,
          exitCode: !wait || session.dryRun || outcome.status === 'Completed' ? 0 : 1,
        };
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    }),
  );
}

interface TransformJobFlags extends AwsFlags, TransformFlags {
  readonly model?: string;
  readonly image?: string;
  readonly modelData?: string;
  readonly role?: string;
  readonly env?: string[];
  readonly input: string;
  readonly output: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly jobName?: string;
  readonly wait?: boolean;
  readonly pollSeconds?: number;
}

function registerTransformJob(program: Command, context: CliContext): void {
  const command: Command = program
    .command('transform-job')
    .description(
      'run a batch transform job on SageMaker with the flags of `smkit local transform`, within its payload and concurrency limits',
    )
    .option('--model <name>', 'an existing SageMaker model (this or --image with --model-data is required)')
    .option('--image <uri>', 'or: create a model from this ECR image ...')
    .option('--model-data <file|s3-uri>', '... and this model.tar.gz (a local file is checked and uploaded)')
    .option('--role <arn>', "with --image: the model's execution role")
    .option('--env <KEY=VALUE>', 'Environment of the transform job (repeatable)', collect)
    .requiredOption('--input <s3-uri|dir>', 'input S3 prefix, or a local directory (uploaded)')
    .requiredOption('--output <s3-uri>', 'S3OutputPath: X.out per input object X');
  addTransformFlags(command)
    .requiredOption('--instance-type <type>', 'e.g. ml.m5.large')
    .option('--instance-count <n>', 'InstanceCount', numberOption(1, true), 1)
    .option('--job-name <name>', 'TransformJobName (default: generated from the model name)')
    .option('--wait', 'wait for the end, streaming the CloudWatch log lines; exit 1 unless Completed')
    .addOption(
      new Option('--poll-seconds <s>', 'seconds between DescribeTransformJob calls')
        .default(5)
        .argParser(numberOption(0, false))
        .hideHelp(),
    );
  addAwsOptions(command).action((flags: TransformJobFlags) =>
    runAwsCommand(context, 'transform-job', flags, async (session) => {
      const [
        { checkName, generateName },
        { planTransformJob, checkTransformLimits },
        { runTransformJob },
        { describeTransformJob },
        { modelForTransform },
      ] = await Promise.all([
        import('../aws/names.js'),
        import('../aws/transform-job.js'),
        import('../aws/run-jobs.js'),
        import('../aws/job-report.js'),
        import('../aws/transform-model.js'),
      ]);
      if (!flags.model === !flags.image)
        throw new InputError('give either --model NAME or --image URI --model-data FILE|S3');
      checkTransformLimits({
        ...(flags.maxPayload !== undefined ? { maxPayloadMb: flags.maxPayload } : {}),
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      });
      const environment = envFrom(flags.env);
      const model = await modelForTransform(session, {
        ...(flags.model ? { name: checkName(flags.model, '--model') } : {}),
        ...(flags.image ? { image: flags.image } : {}),
        ...(flags.modelData ? { modelData: flags.modelData } : {}),
        ...(flags.role ? { role: flags.role } : {}),
      });
      const jobName = flags.jobName ? checkName(flags.jobName, '--job-name') : generateName(model.baseName);
      const options = {
        jobName,
        modelName: model.name,
        input: flags.input,
        output: flags.output,
        ...(flags.contentType ? { contentType: flags.contentType } : {}),
        ...(flags.accept ? { accept: flags.accept } : {}),
        ...(flags.splitType ? { splitType: flags.splitType } : {}),
        ...(flags.strategy ? { strategy: flags.strategy } : {}),
        ...(flags.maxPayload !== undefined ? { maxPayloadMb: flags.maxPayload } : {}),
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
        ...(flags.assembleWith ? { assembleWith: flags.assembleWith } : {}),
        dataProcessing: dataProcessingFromFlags(flags),
        environment,
        instanceType: flags.instanceType,
        instanceCount: flags.instanceCount,
      };
      // Check the whole job before the model is created or anything is uploaded.
      await planTransformJob({ ...options, stagingPrefix: `s3://placeholder-bucket/${jobName}` });
      await model.create();
      const staging = flags.input.startsWith('s3://') ? '' : await stagingPrefix(session, undefined, jobName);
      const plan = await planTransformJob({
        ...options,
        stagingPrefix: staging || `s3://unused-bucket/${jobName}`,
      });
      const outcome = await runTransformJob(session, plan, {
        wait: Boolean(flags.wait),
        ...progressPrinter(context),
        pollMs: (flags.pollSeconds ?? 5) * 1000,
      });
      return {
        text: describeTransformJob(outcome),
        json: outcome,
        exitCode: !flags.wait || session.dryRun || outcome.status === 'Completed' ? 0 : 1,
      };
    }),
  );
}

/** Registers `smkit train-job` and `smkit transform-job`. */
export function registerAwsJobCommands(program: Command, context: CliContext): void {
  registerTrainJob(program, context);
  registerTransformJob(program, context);
}
