/**
 * What the AWS system tests share: their own moto_server on a free port (reset between tests), the
 * smkit CLI run as a user runs it, and SDK clients pointed at the emulator for describe-* assertions.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { freePort } from '../../src/util/net.js';

// The SDK's Node 20 notice would print once per test file; smkit supports Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(root, 'test/train/fixtures/smkit-cli.ts');

/** Credentials and region every AWS test uses (moto accepts any key). */
export const AWS_TEST_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** The account moto answers GetCallerIdentity with. */
export const MOTO_ACCOUNT = '123456789012';

/** SDK client config for the emulator at `endpoint`. */
export function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
    maxAttempts: 1,
  };
}

/** A running moto_server of one test file. */
export interface Moto {
  readonly endpoint: string;
  /** `POST /moto-api/reset`: forgets every resource. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts moto_server on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`moto_server did not start on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    async reset() {
      const reply = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!reply.ok) throw new Error(`moto reset answered ${reply.status}`);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

/** What one smkit run printed. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `smkit ARGS` (from source, through tsx) with the test credentials and `env`. */
export function smkit(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: root, env: { ...process.env, ...AWS_TEST_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** One request the proxy saw. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** A loopback proxy in front of moto that records requests and may answer some itself. */
export interface RecordingProxy {
  readonly endpoint: string;
  readonly seen: readonly SeenRequest[];
  close(): Promise<void>;
}

/**
 * Forwards every request to `target` and records it; `answer` may answer one itself (to play the AWS
 * behaviour moto lacks, such as an endpoint that fails) by returning a status and JSON body.
 */
export async function startRecordingProxy(
  target: string,
  answer: (request: SeenRequest) => { status: number; body: unknown } | undefined = () => undefined,
): Promise<RecordingProxy> {
  const { createServer } = await import('node:http');
  const seen: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    seen.push(request);
    const own = answer(request);
    if (own) {
      res.writeHead(own.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': 'proxy-request',
      });
      res.end(JSON.stringify(own.body));
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
    ) as Record<string, string>;
    const reply = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      ...(request.body.length ? { body: request.body } : {}),
    });
    const replyHeaders: Record<string, string> = {};
    reply.headers.forEach((value, key) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(key))
        replyHeaders[key] = value;
    });
    res.writeHead(reply.status, replyHeaders);
    res.end(Buffer.from(await reply.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The X-Amz-Target operation of a JSON-protocol request (`SageMaker.DescribeEndpoint` -> `DescribeEndpoint`). */
export function targetOf(request: SeenRequest): string | undefined {
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' ? target.split('.').at(-1) : undefined;
}

/**
 * Registers `repository:tag` in moto's ECR as `smkit push` leaves it (moto has no registry: PutImage
 * of a v2 manifest) and returns its URI.
 */
export async function registerImage(endpoint: string, repository: string, tag: string): Promise<string> {
  const ecr = new ECRClient(clientConfig(endpoint));
  await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 2,
      digest: `sha256:${'a'.repeat(64)}`,
    },
    layers: [],
  };
  await ecr.send(
    new PutImageCommand({
      repositoryName: repository,
      imageTag: tag,
      imageManifest: JSON.stringify(manifest),
    }),
  );
  ecr.destroy();
  return `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${repository}:${tag}`;
}
