import type { Command } from 'commander';
import type { CliContext } from './local-commands.js';

/** Adds `smkit demo` (`npm start`). */
export function registerDemoCommand(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('train k-means on the bundled iris data locally, serve it and print a few predictions')
    .action(() => {
      context.stderr.write('smkit demo: not available yet\n');
      process.exitCode = 1;
    });
}
