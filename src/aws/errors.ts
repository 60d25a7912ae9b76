import { SmkitError } from '../util/errors.js';

/** An AWS call that failed: one line with the service's own message and the request id. */
export class AwsError extends SmkitError {
  override readonly name: string = 'AwsError';
  constructor(
    message: string,
    /** The service's error code (`ValidationException`), or undefined for network and credential errors. */
    readonly code: string | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
}

/**
 * Turns whatever the SDK threw into an {@link AwsError}: `SERVICE OPERATION: CODE: message (request id
 * ID)`, without a stack trace; credential, region and connection failures say what to set.
 */
export function toAwsError(error: unknown, service: string, operation: string): AwsError {
  if (error instanceof AwsError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const message = (e.message ?? String(error)).split('\n')[0]!.trim();
  const where = `${service} ${operation}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AwsError(
      `${where}: no AWS credentials found; set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run \`aws configure\``,
      undefined,
      undefined,
    );
  }
  if (/Region is missing/i.test(message)) {
    return new AwsError(`${where}: no AWS region; pass --region or set AWS_REGION`, undefined, undefined);
  }
  const network = e.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (network && /^(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EAI_AGAIN)$/.test(network)) {
    return new AwsError(
      `${where}: cannot reach the service (${network}: ${message}); check --endpoint-url / AWS_ENDPOINT_URL and the network`,
      network,
      undefined,
    );
  }
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId;
  if (name === 'SyntaxError' || /is not valid JSON|Unexpected token/.test(message)) {
    return new AwsError(
      `${where}: the service answered${status ? ` HTTP ${status}` : ''} with a body that is not an AWS answer (does this endpoint implement ${operation}?)${requestId ? ` (request id ${requestId})` : ''}`,
      undefined,
      status,
    );
  }
  const code = name === 'Error' && e.code ? e.code : name;
  return new AwsError(
    `${where}: ${code}: ${message || 'no message'}${status ? ` (HTTP ${status}` : ''}${requestId ? `${status ? ', ' : ' ('}request id ${requestId})` : status ? ')' : ''}`,
    code,
    status,
  );
}

/** True when an error says the thing looked up does not exist (SageMaker answers ValidationException). */
export function isNotFound(error: unknown): boolean {
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? '';
  const message = e.message ?? '';
  return (
    /NotFound|NoSuch|RepositoryNotFound|ImageNotFound|ObjectNotFound/.test(name) ||
    (name === 'ValidationException' &&
      /(could not find|not found|does not exist|cannot find)/i.test(message)) ||
    e.$metadata?.httpStatusCode === 404
  );
}
