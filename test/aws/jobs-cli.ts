// Runs `smkit train-job` / `smkit transform-job` through commander, in this process (a child process
// per case costs seconds on a shared machine), and reads the dry-run requests.
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import type { RecordedRequest } from '../../src/aws/session.js';
import { registerAwsJobCommands } from '../../src/cli/aws-jobs-commands.js';

/** What one smkit run printed. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * An environment with no way to AWS: no credentials from files, no instance metadata, and every request
 * sent to a closed loopback port unless a test names its own endpoint, so nothing leaves 127.0.0.0/8.
 */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    ...extra,
  };
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `smkit ARGS` with `env` as the command's environment. The SDK reads credentials and its settings
 * from process.env, so that is swapped for the run; runs must not overlap (vitest runs a file's tests
 * one after another).
 */
export async function smkit(args: readonly string[], env = isolatedEnv()): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  const program = new Command('smkit').exitOverride();
  program.configureOutput({
    writeOut: (text) => stdout.stream.write(text),
    writeErr: (text) => stderr.stream.write(text),
  });
  registerAwsJobCommands(program, { env, smkitCommand: [], stdout: stdout.stream, stderr: stderr.stream });
  const saved = process.env;
  process.env = { ...env };
  process.exitCode = 0;
  let code: number;
  try {
    await program.parseAsync(['node', 'smkit', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (error) {
    const exit = (error as { exitCode?: number }).exitCode;
    if (exit === undefined) throw error;
    code = exit;
  } finally {
    process.env = saved;
    process.exitCode = 0;
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The requests a `--dry-run` printed; fails with stderr when the run did not succeed. */
export function dryRunRequests(run: CliRun): RecordedRequest[] {
  if (run.code !== 0) throw new Error(`smkit exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as RecordedRequest[];
}

/** The input of the one request named `operation`. */
export function inputOf<T>(requests: readonly RecordedRequest[], operation: string): T {
  const found = requests.filter((r) => r.operation === operation);
  if (found.length !== 1) throw new Error(`expected one ${operation}, got ${found.length}`);
  return found[0]!.input as T;
}
