import type { Command } from 'commander';
import { type CliContext, reportErrors } from './local-commands.js';

/** Adds `smkit demo` (`npm start`). */
export function registerDemoCommand(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('train k-means on the bundled iris data locally, serve it and print predictions (npm start)')
    .option('--verbose', 'show the training and model server logs')
    .action((options: { verbose?: boolean }) =>
      reportErrors(context, 'demo', async () => {
        const { runDemo } = await import('../local/demo.js');
        await runDemo({
          smkitCommand: context.smkitCommand,
          env: context.env,
          out: (text) => context.stdout.write(text),
          log: (line) => options.verbose && context.stderr.write(`${line}\n`),
        });
        return 0;
      }),
    );
}
