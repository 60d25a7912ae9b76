/**
 * `smkit register`: a model package version in the model registry, its inference specification taken
 * from what the image really serves (the model server's decoders and encoders).
 */
import {
  CreateModelPackageCommand,
  type CreateModelPackageCommandInput,
  CreateModelPackageGroupCommand,
  DescribeModelPackageGroupCommand,
  type ModelApprovalStatus,
} from '@aws-sdk/client-sagemaker';
import { decoders, encoders } from '../serve/codecs/index.js';
import { InputError } from '../util/errors.js';
import { checkImageRegion, parseImageUri, parseS3Uri } from './arns.js';
import { checkName } from './names.js';
import type { AwsSession } from './session.js';

/** What `smkit register` takes. */
export interface RegisterOptions {
  readonly image: string;
  /** s3://.../model.tar.gz */
  readonly modelData: string;
  readonly group: string;
  readonly approval?: ModelApprovalStatus;
  readonly description?: string;
  readonly instanceTypes?: readonly string[];
  readonly transformInstanceTypes?: readonly string[];
}

/** What was registered. */
export interface RegisterResult {
  readonly modelPackageArn: string;
  readonly group: string;
  readonly groupCreated: boolean;
  readonly approval: ModelApprovalStatus;
}

const APPROVALS: readonly ModelApprovalStatus[] = ['Approved', 'PendingManualApproval', 'Rejected'];

/** Instance types offered when none are given: general purpose and compute optimised CPU. */
export const DEFAULT_INSTANCE_TYPES = ['ml.m5.large', 'ml.c5.xlarge'];

/** The CreateModelPackage request: content and response types are the ones smkit's server handles. */
export function modelPackageRequest(options: RegisterOptions): CreateModelPackageCommandInput {
  const approval = options.approval ?? 'PendingManualApproval';
  if (!APPROVALS.includes(approval)) {
    throw new InputError(`--approval must be one of ${APPROVALS.join(', ')} (got '${approval}')`);
  }
  parseS3Uri(options.modelData, '--model-data');
  for (const type of [...(options.instanceTypes ?? []), ...(options.transformInstanceTypes ?? [])]) {
    if (!/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(type))
      throw new InputError(`'${type}' is not a SageMaker instance type such as ml.m5.large`);
  }
  return {
    ModelPackageGroupName: options.group,
    ModelApprovalStatus: approval,
    ...(options.description ? { ModelPackageDescription: options.description } : {}),
    InferenceSpecification: {
      Containers: [{ Image: options.image, ModelDataUrl: options.modelData }],
      SupportedContentTypes: [...decoders.keys()],
      SupportedResponseMIMETypes: [...encoders.keys()],
      SupportedRealtimeInferenceInstanceTypes: [
        ...(options.instanceTypes ?? DEFAULT_INSTANCE_TYPES),
      ] as never,
      SupportedTransformInstanceTypes: [
        ...(options.transformInstanceTypes ?? options.instanceTypes ?? DEFAULT_INSTANCE_TYPES),
      ] as never,
    },
  };
}

/** Creates the group when missing, then the package version. */
export async function register(session: AwsSession, options: RegisterOptions): Promise<RegisterResult> {
  checkName(options.group, '--group');
  const image = parseImageUri(options.image);
  checkImageRegion(image, await session.region());
  const request = modelPackageRequest(options);
  const group = await session.lookup(
    'sagemaker',
    new DescribeModelPackageGroupCommand({ ModelPackageGroupName: options.group }),
  );
  if (!group) {
    await session.call(
      'sagemaker',
      new CreateModelPackageGroupCommand({
        ModelPackageGroupName: options.group,
        ModelPackageGroupDescription: `smkit models from ${image.repository}`,
      }),
    );
    session.noteCreated({
      kind: 'model package group',
      name: options.group,
      remove: `aws sagemaker delete-model-package-group --model-package-group-name ${options.group}`,
    });
  }
  const created = await session.call('sagemaker', new CreateModelPackageCommand(request), {
    ModelPackageArn: `arn:aws:sagemaker:${await session.region()}:ACCOUNT_ID:model-package/${options.group}/NEXT`,
    $metadata: {},
  });
  return {
    modelPackageArn: created.ModelPackageArn ?? '',
    group: options.group,
    groupCreated: !group,
    approval: request.ModelApprovalStatus!,
  };
}
