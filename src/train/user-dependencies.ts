import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { SmkitError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** Options of {@link installUserDependencies}. */
export interface InstallUserDependenciesOptions {
  /** The code dir (/opt/ml/code) holding the user's package.json. */
  readonly codeDir: string;
  /** The environment npm runs with (the job's: registry, proxy and cache settings pass through). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Aborted on SIGTERM: npm is stopped. */
  readonly signal: AbortSignal;
}

/**
 * The job's environment without what a parent npm run (`npm start`, `npx`) exports about its own
 * project: with npm_config_local_prefix set, npm would install into that project instead of the code dir.
 */
function npmEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const clean: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_(?:package_|lifecycle_|command$|execpath$|config_local_prefix$)/i.test(key)) continue;
    clean[key] = value;
  }
  return clean;
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** How many lines of npm's stderr are kept for the failure text. */
const NPM_TAIL_LINES = 40;

/** npm's own error lines (`npm error code ECONNREFUSED`, `npm ERR! 404 ...`), the first few. */
function npmErrors(lines: readonly string[]): string {
  const errors = lines
    .map((line) => line.trim())
    .filter((line) => /^npm (?:error|ERR!)\s+\S/.test(line))
    .slice(0, 4);
  return (errors.length ? errors : lines.slice(-3)).join(' / ');
}

/**
 * Installs the dependencies of user code that ships a package.json but no node_modules, before the
 * entry point starts, as the reference toolkit installs requirements.txt: `npm ci` when a lock file
 * is there, else `npm install`; `--ignore-scripts`, so nothing from the registry runs. npm's output
 * goes to the job log. Shipped node_modules are used as they are. A failure (no network under
 * isolation, an unknown package) throws a SmkitError naming npm's error and what to do.
 * @returns the command run, or `undefined` when there was nothing to install
 */
export async function installUserDependencies(
  options: InstallUserDependenciesOptions,
): Promise<string | undefined> {
  const { codeDir, log } = options;
  if (!(await exists(path.join(codeDir, 'package.json')))) return undefined;
  if (await exists(path.join(codeDir, 'node_modules'))) {
    log.info({ codeDir }, 'user code ships node_modules: using them as they are');
    return undefined;
  }
  const locked =
    (await exists(path.join(codeDir, 'package-lock.json'))) ||
    (await exists(path.join(codeDir, 'npm-shrinkwrap.json')));
  const args = [locked ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund'];
  const command = `npm ${args.join(' ')}`;
  log.info({ codeDir, command }, 'installing the dependencies of the user code');
  const child = spawn('npm', args, {
    cwd: codeDir,
    env: npmEnvironment(options.env),
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const tail: string[] = [];
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines);
    if (tail.length > NPM_TAIL_LINES) tail.splice(0, tail.length - NPM_TAIL_LINES);
  });
  const closed = once(child.stderr, 'close').catch(() => undefined);
  const stop = () => child.kill('SIGTERM');
  options.signal.addEventListener('abort', stop, { once: true });
  let code: number | null;
  try {
    [code] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw error;
      }),
    ])) as [number | null];
    await closed;
  } catch (error) {
    throw new SmkitError(
      `cannot install the dependencies in ${path.join(codeDir, 'package.json')}: ${command} did not start ` +
        `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the image has no npm: ship node_modules in the source dir`,
    );
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
  if (partial) tail.push(partial);
  if (code !== 0) {
    throw new SmkitError(
      `cannot install the dependencies in ${path.join(codeDir, 'package.json')}: ${command} exited with code ` +
        `${code ?? 'null'}: ${npmErrors(tail)}. Without network access (network isolation) ship node_modules in the source dir.`,
    );
  }
  log.info({ codeDir, command }, 'dependencies installed');
  return command;
}
