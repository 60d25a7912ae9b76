/**
 * The one way smkit talks to AWS: every request goes through an {@link AwsSession}, which either sends
 * it (with retries and backoff on throttling) or, for `--dry-run`, records it and sends nothing. The
 * commands build the same requests either way, so a dry run prints exactly what a real run would send.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SmkitError } from '../util/errors.js';
import { isNotFound, toAwsError } from './errors.js';

/** The AWS services smkit uses, by the short names the requests are recorded under. */
export type ServiceName =
  | 'sagemaker'
  | 'sagemaker-runtime'
  | 'ecr'
  | 'sts'
  | 'logs'
  | 'application-autoscaling'
  | 's3';

/**
 * An SDK v3 command (`new CreateModelCommand(input)`), seen structurally so the session keeps each
 * command's input and output types without importing every client.
 */
export interface SdkCommand<I extends object, O> {
  readonly input: I;
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's own signature
  resolveMiddleware(stack: any, configuration: any, options: any): (args: any) => Promise<{ output: O }>;
}

/** Where and how to reach AWS: the `--region`, `--profile`, `--endpoint-url` and `--dry-run` flags. */
export interface AwsSettings {
  readonly region?: string;
  readonly profile?: string;
  /** An emulator or VPC endpoint; defaults to AWS_ENDPOINT_URL. */
  readonly endpointUrl?: string;
  /** Attempts per request including the first (default 5, or AWS_MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
  readonly dryRun?: boolean;
  /**
   * Dry runs only: what lookups answer, by operation (`DescribeEndpoint`). Without one a lookup finds
   * nothing, so a dry run shows the requests of a first deployment.
   */
  readonly dryRunAnswers?: Readonly<Record<string, object>>;
}

/** One request as sent (or, in a dry run, as it would be sent). */
export interface RecordedRequest {
  readonly service: ServiceName;
  readonly operation: string;
  readonly input: unknown;
}

/** Something a command created, and the command that removes it. */
export interface CreatedResource {
  readonly kind: string;
  readonly name: string;
  readonly remove: string;
}

/** Progress of an upload in bytes. */
export type UploadProgress = (loaded: number, total: number) => void;

/** A connection to AWS, real or recording (see the module comment). */
export interface AwsSession {
  readonly dryRun: boolean;
  /** Every request, in order (sent or recorded). */
  readonly requests: readonly RecordedRequest[];
  /** What this run created so far, for the "what exists and how to remove it" message on failure. */
  readonly created: readonly CreatedResource[];
  /** The region every client uses (--region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's). */
  region(): Promise<string>;
  /** The caller's account (STS GetCallerIdentity; `ACCOUNT_ID` in a dry run). */
  accountId(): Promise<string>;
  /** Sends one request; a dry run records it and answers `dryRunOutput` (default `{}`). */
  call<I extends object, O>(service: ServiceName, command: SdkCommand<I, O>, dryRunOutput?: O): Promise<O>;
  /** A read that answers undefined when the thing does not exist (and in a dry run without an answer). */
  lookup<I extends object, O>(service: ServiceName, command: SdkCommand<I, O>): Promise<O | undefined>;
  /** Uploads a file to S3 (multipart above 8 MiB). */
  upload(file: string, bucket: string, key: string, onProgress?: UploadProgress): Promise<void>;
  /** Notes a created resource and how to remove it. */
  noteCreated(resource: CreatedResource): void;
  /** Closes the clients' sockets. */
  destroy(): void;
}

/** The name of the operation a command sends: `CreateModelCommand` -> `CreateModel`. */
export function operationName(command: object): string {
  return command.constructor.name.replace(/Command$/, '');
}

const SERVICE_TITLES: Record<ServiceName, string> = {
  sagemaker: 'SageMaker',
  'sagemaker-runtime': 'SageMaker Runtime',
  ecr: 'ECR',
  sts: 'STS',
  logs: 'CloudWatch Logs',
  'application-autoscaling': 'Application Auto Scaling',
  s3: 'S3',
};

interface SdkClient {
  // biome-ignore lint/suspicious/noExplicitAny: each client's send is generic over its own commands
  send(command: any): Promise<any>;
  destroy(): void;
  config: { region: () => Promise<string> };
}

// Each client loads only when first used, so `smkit invoke` does not pay for the SageMaker control plane.
// biome-ignore lint/suspicious/noExplicitAny: client constructors differ only in their config types
const CLIENTS: Record<ServiceName, () => Promise<new (config: any) => SdkClient>> = {
  sagemaker: async () => (await import('@aws-sdk/client-sagemaker')).SageMakerClient,
  'sagemaker-runtime': async () => (await import('@aws-sdk/client-sagemaker-runtime')).SageMakerRuntimeClient,
  ecr: async () => (await import('@aws-sdk/client-ecr')).ECRClient,
  sts: async () => (await import('@aws-sdk/client-sts')).STSClient,
  logs: async () => (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient,
  'application-autoscaling': async () =>
    (await import('@aws-sdk/client-application-auto-scaling')).ApplicationAutoScalingClient,
  s3: async () => (await import('@aws-sdk/client-s3')).S3Client,
};

/** The environment variables the session reads (passed in, never read deep inside). */
export type AwsEnv = Readonly<Record<string, string | undefined>>;

/**
 * A session for `settings`: real, or recording when `settings.dryRun`. Region and endpoint fall back to
 * AWS_REGION / AWS_DEFAULT_REGION and AWS_ENDPOINT_URL from `env`; credentials come from the SDK's
 * standard chain (environment, profile, SSO, instance role).
 */
export function createAwsSession(settings: AwsSettings, env: AwsEnv = {}): AwsSession {
  const requests: RecordedRequest[] = [];
  const created: CreatedResource[] = [];
  const clients = new Map<ServiceName, Promise<SdkClient>>();
  const dryRun = Boolean(settings.dryRun);
  const endpoint = settings.endpointUrl ?? (env.AWS_ENDPOINT_URL || undefined);
  const envAttempts = Number(env.AWS_MAX_ATTEMPTS);
  const maxAttempts =
    settings.maxAttempts ?? (Number.isInteger(envAttempts) && envAttempts > 0 ? envAttempts : 5);
  let regionPromise: Promise<string> | undefined;
  let accountPromise: Promise<string> | undefined;

  const baseConfig = (service: ServiceName, region: string | undefined) => ({
    ...(region ? { region } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(endpoint ? { endpoint } : {}),
    // Adaptive retries back off on throttling (and rate-limit the client) as well as on 5xx.
    retryMode: 'adaptive',
    maxAttempts,
    // Emulators and VPC endpoints answer on one host name: no bucket-in-host-name addressing.
    ...(service === 's3' && endpoint ? { forcePathStyle: true } : {}),
  });

  const region = (): Promise<string> => {
    regionPromise ??= (async () => {
      const given = settings.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
      if (given) return given;
      const Sts = await CLIENTS.sts();
      const probe = new Sts(baseConfig('sts', undefined));
      try {
        return await probe.config.region();
      } catch {
        throw new SmkitError('no AWS region: pass --region, set AWS_REGION, or set one in the profile');
      } finally {
        probe.destroy();
      }
    })();
    return regionPromise;
  };

  const client = (service: ServiceName): Promise<SdkClient> => {
    let found = clients.get(service);
    if (!found) {
      found = (async () => {
        const [Client, where] = await Promise.all([CLIENTS[service](), region()]);
        return new Client(baseConfig(service, where));
      })();
      clients.set(service, found);
    }
    return found;
  };

  const send = async <I extends object, O>(service: ServiceName, command: SdkCommand<I, O>): Promise<O> => {
    const operation = operationName(command);
    requests.push({ service, operation, input: command.input });
    try {
      return (await (await client(service)).send(command)) as O;
    } catch (error) {
      if (error instanceof SmkitError) throw error;
      throw Object.assign(toAwsError(error, SERVICE_TITLES[service], operation), { cause: error });
    }
  };

  const session: AwsSession = {
    dryRun,
    requests,
    created,
    region,
    accountId() {
      accountPromise ??= (async () => {
        if (dryRun) {
          requests.push({ service: 'sts', operation: 'GetCallerIdentity', input: {} });
          return 'ACCOUNT_ID';
        }
        const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
        const identity = await send('sts', new GetCallerIdentityCommand({}));
        if (!identity.Account) throw new SmkitError('STS GetCallerIdentity answered without an account');
        return identity.Account;
      })();
      return accountPromise;
    },
    async call(service, command, dryRunOutput) {
      if (!dryRun) return send(service, command);
      await region();
      const operation = operationName(command);
      requests.push({ service, operation, input: command.input });
      return (dryRunOutput ?? settings.dryRunAnswers?.[operation] ?? {}) as never;
    },
    async lookup(service, command) {
      if (dryRun) {
        await region();
        const operation = operationName(command);
        requests.push({ service, operation, input: command.input });
        return settings.dryRunAnswers?.[operation] as never;
      }
      try {
        return await send(service, command);
      } catch (error) {
        if (isNotFound((error as { cause?: unknown }).cause)) return undefined;
        throw error;
      }
    },
    async upload(file, bucket, key, onProgress) {
      const { size } = await stat(file);
      if (dryRun) {
        await region();
        requests.push({
          service: 's3',
          operation: size > PART_SIZE ? 'CreateMultipartUpload' : 'PutObject',
          input: { Bucket: bucket, Key: key, Body: { file, bytes: size } },
        });
        return;
      }
      const [{ Upload }, s3] = await Promise.all([import('@aws-sdk/lib-storage'), client('s3')]);
      requests.push({
        service: 's3',
        operation: size > PART_SIZE ? 'CreateMultipartUpload' : 'PutObject',
        input: { Bucket: bucket, Key: key, Body: { file, bytes: size } },
      });
      const upload = new Upload({
        // biome-ignore lint/suspicious/noExplicitAny: the S3 client, loaded lazily
        client: s3 as any,
        params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
      });
      upload.on('httpUploadProgress', (p) => onProgress?.(p.loaded ?? 0, p.total ?? size));
      try {
        await upload.done();
      } catch (error) {
        throw Object.assign(toAwsError(error, 'S3', 'Upload'), { cause: error });
      }
    },
    noteCreated(resource) {
      created.push(resource);
    },
    destroy() {
      for (const pending of clients.values())
        void pending.then(
          (c) => c.destroy(),
          () => undefined,
        );
    },
  };
  return session;
}

/** Multipart part size: S3's minimum is 5 MiB; 8 MiB keeps the part count low for big models. */
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * The requests as JSON for `--dry-run`: binary bodies become `{ "bytes": N, "utf8": ... }` (or base64
 * when they are not text), dates become ISO strings.
 */
export function requestsToJson(requests: readonly RecordedRequest[]): string {
  return JSON.stringify(
    requests,
    (_key, value: unknown) => {
      if (value instanceof Uint8Array) {
        const buffer = Buffer.from(value);
        const text = buffer.toString('utf8');
        return Buffer.from(text, 'utf8').equals(buffer)
          ? { bytes: buffer.length, utf8: text }
          : { bytes: buffer.length, base64: buffer.toString('base64') };
      }
      if (
        value &&
        typeof value === 'object' &&
        (value as { type?: string }).type === 'Buffer' &&
        Array.isArray((value as { data?: unknown }).data)
      ) {
        const buffer = Buffer.from((value as { data: number[] }).data);
        return { bytes: buffer.length, utf8: buffer.toString('utf8') };
      }
      return value;
    },
    2,
  );
}

/** The "what exists and how to remove it" lines after a failure, or '' when nothing was created. */
export function describeLeftovers(created: readonly CreatedResource[]): string {
  if (created.length === 0) return '';
  return `created before the failure (still there):\n${created
    .map((c) => `  ${c.kind} ${c.name}: remove with \`${c.remove}\``)
    .join('\n')}\n`;
}
