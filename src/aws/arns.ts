import { InputError } from '../util/errors.js';

/** A parsed IAM role ARN. */
export interface RoleArn {
  readonly arn: string;
  readonly partition: string;
  readonly account: string;
  /** `/` or `/service-role/` etc. */
  readonly path: string;
  readonly name: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * Parses the execution role SageMaker assumes. Refuses, with what to pass instead: a user ARN, an STS
 * assumed-role ARN (the session, not the role), a mangled path (`//`, a missing name) and anything that
 * is not an IAM ARN.
 * @example parseRoleArn('arn:aws:iam::123456789012:role/service-role/SageMakerRole').name === 'SageMakerRole'
 */
export function parseRoleArn(text: string): RoleArn {
  const arn = text.trim();
  const fields = arn.split(':');
  if (fields.length < 6 || fields[0] !== 'arn' || !/^aws(-[a-z]+)*$/.test(fields[1] ?? '')) {
    throw new InputError(
      `--role '${text}' is not an ARN; give the execution role's ARN, e.g. arn:aws:iam::123456789012:role/SageMakerExecutionRole`,
    );
  }
  const [, partition = 'aws', service, , account = '', ...rest] = fields;
  const resource = rest.join(':');
  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const role = resource.split('/')[1] ?? 'NAME';
    throw new InputError(
      `--role ${arn} is an assumed-role session, not a role; pass the role itself, e.g. arn:${partition}:iam::${account}:role/${role} (with its path, if it has one)`,
    );
  }
  if (service !== 'iam') {
    throw new InputError(
      `--role ${arn} is not an IAM ARN (service '${service}'); give arn:${partition}:iam::ACCOUNT:role/NAME`,
    );
  }
  if (!/^\d{12}$/.test(account)) {
    throw new InputError(`--role ${arn}: the account '${account}' is not 12 digits`);
  }
  const slash = resource.indexOf('/');
  const type = slash < 0 ? resource : resource.slice(0, slash);
  if (type === 'user' || type === 'group' || type === 'policy') {
    throw new InputError(
      `--role ${arn} is an IAM ${type}; SageMaker needs a role it can assume (trust policy for sagemaker.amazonaws.com), e.g. arn:${partition}:iam::${account}:role/SageMakerExecutionRole`,
    );
  }
  if (type !== 'role') {
    throw new InputError(`--role ${arn}: expected a role (…:role/NAME), got '${type}'`);
  }
  const pathAndName = resource.slice(slash + 1);
  const parts = pathAndName.split('/');
  const name = parts.pop() ?? '';
  if (parts.some((part) => part === '') || !ROLE_NAME.test(name) || parts.some((p) => !ROLE_NAME.test(p))) {
    throw new InputError(
      `--role ${arn} has a mangled path or name ('${pathAndName}'); a role ARN is arn:${partition}:iam::${account}:role/[path/]NAME with no empty or invalid segments`,
    );
  }
  return { arn, partition, account, path: `/${parts.map((p) => `${p}/`).join('')}`, name };
}

/** A parsed ECR image URI. */
export interface ImageUri {
  readonly uri: string;
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::([\w][\w.-]{0,127})|@(sha256:[a-f0-9]{64}))?$/;

/**
 * Parses `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@sha256:...]` (no tag means `latest`, as Docker).
 * SageMaker pulls only from ECR (or a VPC registry), so anything else is refused with what to do.
 */
export function parseImageUri(text: string): ImageUri {
  const match = ECR_IMAGE.exec(text.trim());
  if (!match) {
    throw new InputError(
      `--image '${text}' is not an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG); push the image with \`smkit push --repository NAME\` and pass the URI it prints`,
    );
  }
  const [, account, region, repository, tag, digest] = match;
  return {
    uri: text.trim(),
    account: account!,
    region: region!,
    repository: repository!,
    ...(digest ? { digest } : { tag: tag ?? 'latest' }),
  };
}

/** Refuses an image in another region than the endpoint or job: SageMaker cannot pull it. */
export function checkImageRegion(image: ImageUri, region: string): void {
  if (image.region !== region) {
    throw new InputError(
      `the image ${image.uri} is in ${image.region} but the SageMaker resources would be in ${region}: SageMaker pulls only from ECR in its own region; push it there (\`smkit push --region ${region} ...\`) or pass --region ${image.region}`,
    );
  }
}

/** Parses `s3://bucket/key` (key may be empty or end in '/'). */
export function parseS3Uri(text: string, what: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text);
  if (!match) throw new InputError(`${what} '${text}' is not an S3 URI; give s3://BUCKET/PREFIX`);
  return { bucket: match[1]!, key: match[2] ?? '' };
}
