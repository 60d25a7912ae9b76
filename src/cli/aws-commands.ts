/**
 * The AWS commands (`push`, `deploy`, `invoke`, `register`, `teardown`): thin wrappers over src/aws.
 * Each loads its modules only when it runs.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../util/errors.js';
import { addAwsOptions, runAwsCommand } from './aws-options.js';
import { collect } from './job-flags.js';
import { type CliContext, envFrom, readBodyFile, readStdin } from './local-commands.js';

function integerAtLeast(min: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return number;
  };
}

function registerDeploy(program: Command, context: CliContext): void {
  addAwsOptions(
    program
      .command('deploy')
      .description('create (or update) a SageMaker endpoint for an image and model, and wait for InService')
      .option('--image <uri>', 'ECR image URI from smkit push (required unless --model-package)')
      .option(
        '--model-data <file|s3-uri>',
        'model.tar.gz (checked, then uploaded) or s3://... (required unless --model-package)',
      )
      .option(
        '--model-package <arn>',
        'a model package ARN (from smkit register) instead of --image/--model-data',
      )
      .option(
        '--multi-model <s3-prefix|dir>',
        'a multi-model endpoint over the archives under this S3 prefix, or a folder whose *.tar.gz are uploaded (invoke with --target-model)',
      )
      .requiredOption('--role <arn>', 'execution role ARN SageMaker assumes')
      .option('--endpoint-name <name>', 'endpoint name (generated when not given)')
      .option('--instance-type <type>', 'e.g. ml.m5.large (required unless --serverless)')
      .option('--instance-count <n>', 'InitialInstanceCount', integerAtLeast(1), 1)
      .option('--serverless <mem,conc>', 'serverless endpoint: memory MB and max concurrency, e.g. 2048,5')
      .option('--async <s3-uri>', 'asynchronous inference, results written here')
      .option('--autoscale <spec>', 'min=1,max=8,invocations-per-instance=N: target tracking on the variant')
      .option('--env <KEY=VALUE>', 'container environment (repeatable)', collect)
      .option(
        '--bucket <name>',
        'bucket for a local model.tar.gz or --multi-model folder (default sagemaker-REGION-ACCOUNT)',
      )
      .option('--no-wait', 'return once CreateEndpoint/UpdateEndpoint is accepted')
      .option('--wait-timeout <seconds>', 'give up waiting after this long', integerAtLeast(1), 1800)
      .option('--poll-interval <seconds>', 'seconds between DescribeEndpoint calls', integerAtLeast(0), 15),
  ).action((options) =>
    runAwsCommand(context, 'deploy', options, async (session) => {
      const [
        { deploy, describeDeploy, parseAutoscale, parseServerless },
        { createStatusLine, renderProgressBar },
      ] = await Promise.all([import('../aws/deploy.js'), import('./progress.js')]);
      // Parsed before the session sends anything: min > max is refused with no call made.
      const autoscale = options.autoscale ? parseAutoscale(options.autoscale) : undefined;
      const serverless = options.serverless ? parseServerless(options.serverless) : undefined;
      const status = createStatusLine(context.stderr, Boolean(context.stderr.isTTY) && !options.json);
      try {
        const result = await deploy(session, {
          image: options.image,
          modelData: options.modelData,
          modelPackage: options.modelPackage,
          multiModel: options.multiModel,
          role: options.role,
          endpointName: options.endpointName,
          instanceType: options.instanceType,
          instanceCount: options.instanceCount,
          ...(serverless ? { serverless } : {}),
          asyncOutput: options.async,
          ...(autoscale ? { autoscale } : {}),
          ...(options.env?.length ? { environment: envFrom(options.env) } : {}),
          bucket: options.bucket,
          wait: options.wait,
          waitSeconds: options.waitTimeout,
          pollSeconds: options.pollInterval,
          onStatus: (line) => status.log(line),
          onUploadProgress: (loaded, total) =>
            status.show(`upload ${renderProgressBar(loaded / Math.max(1, total))}`),
        });
        status.done();
        return { text: describeDeploy(result), json: result, exitCode: result.status === 'Failed' ? 1 : 0 };
      } finally {
        status.done();
      }
    }),
  );
}

function registerInvoke(program: Command, context: CliContext): void {
  addAwsOptions(
    program
      .command('invoke')
      .description(
        'send one request to a SageMaker endpoint (InvokeEndpoint); the flags of smkit local invoke',
      )
      .requiredOption('--endpoint <name>', 'endpoint name')
      .requiredOption('--content-type <type>', 'Content-Type of the body')
      .option('--accept <type>', 'Accept')
      .requiredOption('--body <file|->', 'request body file, or - for stdin')
      .option('--custom-attributes <text>', 'X-Amzn-SageMaker-Custom-Attributes')
      .option('--target-model <archive>', 'multi-model endpoints: the model archive to run')
      .option('--target-variant <name>', 'send to this production variant'),
  ).action((options) =>
    runAwsCommand(context, 'invoke', options, async (session) => {
      const { invoke } = await import('../aws/invoke.js');
      const body = options.body === '-' ? await readStdin() : await readBodyFile(options.body);
      const answer = await invoke(session, {
        endpointName: options.endpoint,
        contentType: options.contentType,
        accept: options.accept,
        body,
        customAttributes: options.customAttributes,
        targetModel: options.targetModel,
        targetVariant: options.targetVariant,
      });
      return {
        text: answer.body.toString('utf8'),
        json: { ...answer, body: answer.body.toString('utf8') },
      };
    }),
  );
}

function registerTeardown(program: Command, context: CliContext): void {
  addAwsOptions(
    program
      .command('teardown')
      .description('delete what smkit deploy created for an endpoint: scaling, endpoint, configs, models')
      .argument('<endpoint-name>', 'the endpoint')
      .option('--yes', 'do not ask first (required when stdin is not a terminal)'),
  ).action((name: string, options) =>
    runAwsCommand(context, 'teardown', options, async (session) => {
      const { describePlan, isEmptyPlan, planTeardown, runTeardown } = await import('../aws/teardown.js');
      const plan = await planTeardown(session, name);
      if (!session.dryRun && isEmptyPlan(plan)) {
        throw new InputError(`nothing to remove: no endpoint, config, model or scaling found for ${name}`);
      }
      if (!options.yes && !session.dryRun) {
        if (!process.stdin.isTTY) {
          throw new InputError(
            `would delete ${describePlan(plan).trim().replace(/\n\s*/g, ', ')}; stdin is not a terminal: pass --yes to delete without asking`,
          );
        }
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: context.stderr });
        const answer = await rl.question(`delete these?\n${describePlan(plan)}\n[y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim()))
          return { text: 'nothing deleted', json: { deleted: false, plan }, exitCode: 1 };
      }
      await runTeardown(session, plan);
      return { text: `deleted:\n${describePlan(plan)}`, json: { deleted: true, plan } };
    }),
  );
}

function registerPush(program: Command, context: CliContext): void {
  addAwsOptions(
    program
      .command('push')
      .description('push an image to ECR (creating the repository), then check its manifest and architecture')
      .option('--build', 'docker build the image first')
      .option('--image <local-image>', 'the local image to push (default REPOSITORY:TAG)')
      .option('--context <dir>', 'with --build: the build context', '.')
      .option('--file <Dockerfile>', 'with --build: the Dockerfile')
      .requiredOption('--repository <name>', 'ECR repository (created when missing, scan on push)')
      .option('--tag <tag>', 'image tag', 'latest')
      .addOption(
        new Option('--platform <platform>', 'the platform the image must be')
          .choices(['linux/amd64', 'linux/arm64'])
          .default('linux/amd64'),
      )
      .option('--immutable-tags', 'create the repository with immutable tags')
      .option(
        '--registry <host:port>',
        'push the layers to this registry instead and register the manifest in ECR (emulators, mirrors)',
      ),
  ).action((options) =>
    runAwsCommand(context, 'push', options, async (session) => {
      const { push } = await import('../aws/push.js');
      const result = await push(session, {
        image: options.image,
        build: options.build,
        context: options.context,
        dockerfile: options.file,
        repository: options.repository,
        tag: options.tag,
        platform: options.platform,
        immutableTags: options.immutableTags,
        registry: options.registry,
        onStatus: (line) => context.stderr.write(`${line}\n`),
      });
      return {
        text: `${result.uri}\n${result.digest ? `digest ${result.digest} (${result.architecture})\n` : ''}`,
        json: result,
      };
    }),
  );
}

function registerRegister(program: Command, context: CliContext): void {
  const list = (value: string) =>
    value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  addAwsOptions(
    program
      .command('register')
      .description('add a model package version to the model registry (group created when missing)')
      .requiredOption('--image <uri>', 'ECR image URI')
      .requiredOption('--model-data <s3-uri>', 's3://.../model.tar.gz')
      .requiredOption('--group <name>', 'model package group')
      .addOption(
        new Option('--approval <status>', 'ModelApprovalStatus')
          .choices(['Approved', 'PendingManualApproval', 'Rejected'])
          .default('PendingManualApproval'),
      )
      .option('--description <text>', 'ModelPackageDescription')
      .option('--instance-types <list>', 'real-time instance types (default ml.m5.large,ml.c5.xlarge)', list)
      .option(
        '--transform-instance-types <list>',
        'batch transform instance types (default: --instance-types)',
        list,
      ),
  ).action((options) =>
    runAwsCommand(context, 'register', options, async (session) => {
      const { register } = await import('../aws/register.js');
      const result = await register(session, {
        image: options.image,
        modelData: options.modelData,
        group: options.group,
        approval: options.approval,
        description: options.description,
        instanceTypes: options.instanceTypes,
        transformInstanceTypes: options.transformInstanceTypes,
      });
      return {
        text: `${result.modelPackageArn} (${result.approval}${result.groupCreated ? `, group ${result.group} created` : ''})\ndeploy it: smkit deploy --model-package ${result.modelPackageArn} --role ARN --instance-type ml.m5.large\n`,
        json: result,
      };
    }),
  );
}

/** Registers the AWS commands on `program`. */
export function registerAwsCommands(program: Command, context: CliContext): void {
  registerDeploy(program, context);
  registerInvoke(program, context);
  registerTeardown(program, context);
  registerPush(program, context);
  registerRegister(program, context);
}
