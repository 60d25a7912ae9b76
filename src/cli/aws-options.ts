/**
 * What every AWS command shares: the `--region`, `--profile`, `--endpoint-url`, `--max-attempts`,
 * `--dry-run` and `--json` flags, and one runner that opens the session, prints the result (or the
 * dry run's requests) and turns any failure into one line plus what was left behind.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { AwsSession, AwsSettings } from '../aws/session.js';
import { errorMessage } from '../util/errors.js';
import type { CliContext } from './local-commands.js';

/** The flags {@link addAwsOptions} adds, as commander parses them. */
export interface AwsFlags {
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly maxAttempts?: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** What a command body returns: text for people, an object for `--json`, and the exit code. */
export interface AwsCommandResult {
  readonly text: string;
  readonly json: unknown;
  readonly exitCode?: number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected an integer >= 1');
  return number;
}

/** Adds the shared AWS flags to `command`. */
export function addAwsOptions(command: Command): Command {
  return command
    .option('--region <region>', 'AWS region (default: AWS_REGION, then the profile)')
    .option('--profile <name>', 'named profile from ~/.aws/config')
    .option('--endpoint-url <url>', 'send every request here, e.g. an emulator (default: AWS_ENDPOINT_URL)')
    .option(
      '--max-attempts <n>',
      'attempts per request, with backoff on throttling (default 5)',
      positiveInteger,
    )
    .option('--dry-run', 'print the API requests as JSON and send nothing')
    .option('--json', 'print the result as JSON');
}

/** Session settings from the parsed flags. */
export function settingsFrom(flags: AwsFlags): AwsSettings {
  return {
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
    ...(flags.endpointUrl ? { endpointUrl: flags.endpointUrl } : {}),
    ...(flags.maxAttempts ? { maxAttempts: flags.maxAttempts } : {}),
    dryRun: Boolean(flags.dryRun),
  };
}

/**
 * Runs one AWS command body with a session built from `flags`. A dry run prints the recorded requests
 * as JSON; a real run prints the result. Any failure is one line on stderr (`smkit NAME: message`, no
 * stack trace), followed by what the run created and how to remove it, and exit code 1.
 */
export async function runAwsCommand(
  context: CliContext,
  name: string,
  flags: AwsFlags,
  body: (session: AwsSession) => Promise<AwsCommandResult>,
): Promise<void> {
  const [{ createAwsSession, describeLeftovers, requestsToJson }] = await Promise.all([
    import('../aws/session.js'),
  ]);
  // The SDK warns on every run under Node 20, which smkit supports; the warning is not the user's to act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const session = createAwsSession(settingsFrom(flags), context.env);
  try {
    const result = await body(session);
    if (session.dryRun) context.stdout.write(`${requestsToJson(session.requests)}\n`);
    else if (flags.json) context.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    else
      context.stdout.write(
        result.text.endsWith('\n') || result.text === '' ? result.text : `${result.text}\n`,
      );
    process.exitCode = result.exitCode ?? 0;
  } catch (error) {
    context.stderr.write(
      `smkit ${name}: ${errorMessage(error).split('\n')[0]}\n${describeLeftovers(session.created)}`,
    );
    process.exitCode = 1;
  } finally {
    session.destroy();
  }
}
