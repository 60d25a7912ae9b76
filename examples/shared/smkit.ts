/**
 * What the examples share: run the `smkit` command as a user types it (each command is echoed with a
 * `$` first), start `smkit local serve` in the background, and small CSV helpers.
 *
 * The command is the checkout's `bin/smkit` (built by `npm ci`); set `SMKIT_BIN` to use another one,
 * such as the `smkit` an `npm install smkit` put under node_modules/.bin.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** The smkit command: `node <checkout>/bin/smkit`, or `SMKIT_BIN`. */
const SMKIT_BIN = process.env.SMKIT_BIN ?? fileURLToPath(new URL('../../bin/smkit', import.meta.url));

/** Quotes an argument for the echoed command line only when it needs it. */
const shellWord = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

/** An absolute path under the working directory, shown relative to it (for the echo only). */
const shown = (arg: string) =>
  arg.replace(/(^|=)(\/[^,]+)/, (_, before: string, file: string) => {
    const relative = path.relative(process.cwd(), file);
    return before + (relative.startsWith('..') ? file : relative);
  });

/** Prints `$ smkit ARGS` as a user would type it (`suffix`: e.g. ` &` for a background command). */
function echo(args: readonly string[], suffix = ''): void {
  process.stdout.write(`$ smkit ${args.map((arg) => shellWord(shown(arg))).join(' ')}${suffix}\n`);
}

/**
 * Runs `smkit ARGS` to completion and returns its stdout; a non-zero exit throws with its stderr.
 * @example const result = JSON.parse(await smkit(['local', 'train', ..., '--json']));
 */
export function smkit(args: readonly string[], options: { quiet?: boolean } = {}): Promise<string> {
  if (!options.quiet) echo(args);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SMKIT_BIN, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`smkit ${args.join(' ')} failed (${error.code}):\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A `smkit local serve` running in the background. */
export interface LocalEndpoint {
  /** `http://127.0.0.1:PORT`, for `smkit local invoke --endpoint`. */
  readonly url: string;
  /** SIGTERM, as Ctrl-C would: the server drains and exits. */
  stop(): Promise<void>;
}

/**
 * Starts `smkit local serve ARGS --port 0` and waits for its "Endpoint InService at URL" line.
 * @example const endpoint = await localServe(['--model', 'out/model.tar.gz']);
 */
export async function localServe(args: readonly string[]): Promise<LocalEndpoint> {
  const all = ['local', 'serve', ...args, '--port', '0'];
  echo(all, ' &');
  const child: ChildProcess = spawn(process.execPath, [SMKIT_BIN, ...all], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /Endpoint InService at (\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`smkit local serve exited (${code}):\n${stderr}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * `smkit local invoke --endpoint URL --content-type TYPE --accept ACCEPT --body FILE`: the answer's body.
 * @example const csv = await localInvoke(endpoint.url, 'rows.csv', 'text/csv', 'text/csv');
 */
export function localInvoke(url: string, body: string, contentType: string, accept: string): Promise<string> {
  return smkit([
    'local',
    'invoke',
    '--endpoint',
    url,
    '--content-type',
    contentType,
    '--accept',
    accept,
    '--body',
    body,
  ]);
}

/** A CSV with a header row and the label first, as headerless feature rows and the labels. */
export async function readLabelledCsv(file: string): Promise<{ rows: string[]; labels: string[] }> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const rows: string[] = [];
  const labels: string[] = [];
  for (const line of lines.slice(1)) {
    const comma = line.indexOf(',');
    labels.push(line.slice(0, comma));
    rows.push(line.slice(comma + 1));
  }
  return { rows, labels };
}

/** The flags examples 1 and 2 share: which legs to run, the AWS leg's image, role and endpoint. */
const LEG_FLAGS = {
  local: { type: 'boolean' },
  'local-image': { type: 'string' },
  aws: { type: 'boolean' },
  image: { type: 'string' },
  role: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'instance-type': { type: 'string', default: 'ml.m5.large' },
} as const;

/**
 * Parses `--local [--local-image IMAGE]` and `--aws --image URI --role ARN [--endpoint-url URL]
 * [--instance-type T]` plus the example's own flags, and refuses a command line that names no leg
 * or an AWS leg without its image and role.
 */
export function parseLegFlags<const Extra extends NonNullable<ParseArgsConfig['options']>>(
  extra: Extra,
): ReturnType<typeof parseArgs<{ options: typeof LEG_FLAGS & Extra }>>['values'] {
  const { values } = parseArgs<{ options: typeof LEG_FLAGS & Extra }>({
    options: { ...LEG_FLAGS, ...extra },
  });
  const legs = values as { local?: boolean; aws?: boolean; image?: string; role?: string };
  if (!legs.local && !legs.aws) throw new Error('say --local, --aws, or both');
  if (legs.aws && !(legs.image && legs.role)) throw new Error('--aws needs --image URI and --role ARN');
  return values;
}
