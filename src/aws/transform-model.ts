import { stat } from 'node:fs/promises';
import { CreateModelCommand, DescribeModelCommand } from '@aws-sdk/client-sagemaker';
import { checkLocalModel } from './model-archive.js';
import { InputError } from '../util/errors.js';
import { checkImageRegion, parseImageUri, parseRoleArn, parseS3Uri } from './arns.js';
import { defaultBucket } from './default-bucket.js';
import { checkImageInEcr } from './image-check.js';
import { generateName } from './names.js';
import type { AwsSession } from './session.js';

/** The model a transform job runs: checked up front, created (or looked up) by `create()`. */
export interface TransformModel {
  readonly name: string;
  /** What generated job names start with. */
  readonly baseName: string;
  /** Looks the model up, or uploads the archive and calls CreateModel. */
  create(): Promise<void>;
}

/** `--model NAME`, or `--image URI --model-data FILE|S3 --role ARN`. */
export interface TransformModelOptions {
  readonly name?: string;
  readonly image?: string;
  readonly modelData?: string;
  readonly role?: string;
}

/**
 * Checks the model flags of `smkit transform-job` without a request: an existing model by name, or an
 * image (ECR, same region) with a model archive (a local one must have its members at the root) and a role.
 */
export async function modelForTransform(
  session: AwsSession,
  options: TransformModelOptions,
): Promise<TransformModel> {
  if (options.name) {
    const name = options.name;
    return {
      name,
      baseName: name,
      async create() {
        const found = await session.lookup('sagemaker', new DescribeModelCommand({ ModelName: name }));
        if (!found && !session.dryRun) {
          throw new InputError(
            `model ${name} does not exist in ${await session.region()}; create it (smkit deploy) or pass --image URI --model-data FILE|S3 --role ARN`,
          );
        }
      },
    };
  }
  if (!options.modelData || !options.role) {
    throw new InputError('--image needs --model-data FILE|s3://... and --role ARN to create the model');
  }
  const image = parseImageUri(options.image!);
  const role = parseRoleArn(options.role);
  checkImageRegion(image, await session.region());
  const data = options.modelData;
  if (data.startsWith('s3://')) parseS3Uri(data, '--model-data');
  else {
    if (!(await stat(data).catch(() => undefined))?.isFile()) {
      throw new InputError(`--model-data ${data} is not a file; give a model.tar.gz or an s3:// URI`);
    }
    await checkLocalModel(data);
  }
  const name = generateName(image.repository.split('/').pop()!);
  return {
    name,
    baseName: name.replace(/-\d{4}(-\d+)+$/, ''),
    async create() {
      await checkImageInEcr(session, image);
      let modelDataUrl = data;
      if (!data.startsWith('s3://')) {
        const bucket = await defaultBucket(session);
        const key = `${name}/model.tar.gz`;
        session.noteCreated({
          kind: 'S3 object',
          name: `s3://${bucket}/${key}`,
          remove: `aws s3 rm s3://${bucket}/${key}`,
        });
        await session.upload(data, bucket, key);
        modelDataUrl = `s3://${bucket}/${key}`;
      }
      await session.call(
        'sagemaker',
        new CreateModelCommand({
          ModelName: name,
          ExecutionRoleArn: role.arn,
          PrimaryContainer: { Image: image.uri, ModelDataUrl: modelDataUrl },
        }),
      );
      session.noteCreated({ kind: 'model', name, remove: `aws sagemaker delete-model --model-name ${name}` });
    },
  };
}
