import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The program and arguments that run a user entry point. */
export interface EntryPointCommand {
  readonly command: string;
  readonly args: readonly string[];
}

let tsxLoader: string | undefined;

/** The `tsx` loader from smkit's own dependencies, so `.ts` scripts run wherever the user code lives. */
export function tsxLoaderUrl(): string {
  tsxLoader ??= pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return tsxLoader;
}

/**
 * How to run an entry point by its extension: `.js`/`.mjs`/`.cjs` with this Node, `.ts`/`.mts`/`.cts`
 * with this Node and the tsx loader, `.sh` with bash, `.py` with python3, anything else directly
 * (it must be executable).
 * @example entryPointCommand('/opt/ml/code/train.sh', ['--k', '3']) // { command: 'bash', args: [file, '--k', '3'] }
 */
export function entryPointCommand(file: string, args: readonly string[]): EntryPointCommand {
  switch (path.extname(file).toLowerCase()) {
    case '.js':
    case '.mjs':
    case '.cjs':
      return { command: process.execPath, args: [file, ...args] };
    case '.ts':
    case '.mts':
    case '.cts':
      return { command: process.execPath, args: ['--import', tsxLoaderUrl(), file, ...args] };
    case '.sh':
      return { command: 'bash', args: [file, ...args] };
    case '.py':
      return { command: 'python3', args: [file, ...args] };
    default:
      return { command: file, args };
  }
}
