import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { InputError } from '../util/errors.js';
import type { ImageUri } from './arns.js';
import type { AwsSession } from './session.js';

/**
 * Refuses an image that is not in ECR (a tag that exists only locally, a typo) before anything is
 * created: SageMaker would find out only after the instances started. A dry run records the lookup.
 */
export async function checkImageInEcr(session: AwsSession, image: ImageUri): Promise<void> {
  const found = await session.lookup(
    'ecr',
    new DescribeImagesCommand({
      registryId: image.account,
      repositoryName: image.repository,
      imageIds: [image.digest ? { imageDigest: image.digest } : { imageTag: image.tag! }],
    }),
  );
  if (!session.dryRun && !found?.imageDetails?.length) {
    throw new InputError(
      `${image.uri} is not in ECR (a tag that exists only locally?); push it with \`smkit push --repository ${image.repository} --tag ${image.tag ?? 'TAG'}\``,
    );
  }
}
