import { Command } from 'commander';
import { readServingSettings } from '../contract/index.js';
import { createLogger } from '../util/log.js';

/**
 * The `smkit` command. SageMaker runs the image as `IMAGE train` or `IMAGE serve`;
 * the same commands work from a checkout with `SAGEMAKER_BASE_DIR` pointing at a job tree.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const program = new Command('smkit')
    .description('SageMaker bring-your-own-container toolkit for Node.js')
    .showHelpAfterError();

  // Commands: `train` (src/train), `serve` (src/serve), `local` (src/local).
  program
    .command('train')
    .description(
      'run the training job under SAGEMAKER_BASE_DIR (default /opt/ml): a user script (sagemaker_program) ' +
        'or a built-in algorithm (smkit_algorithm / SMKIT_ALGORITHM); exits non-zero with output/failure on failure',
    )
    .action(async () => {
      // Exit explicitly: SDK sockets or user-started timers must not keep a finished job alive.
      // Each command imports only its own modules: `train` must not pay for the HTTP stack, nor `serve`
      // for the training runner.
      const { runTrainingJob } = await import('../train/runner.js');
      process.exit(await runTrainingJob({ env }));
    });

  program
    .command('serve')
    .description('serve the model in $SAGEMAKER_BASE_DIR/model (default /opt/ml/model) on port 8080')
    .action(async () => {
      const { serve } = await import('../serve/server.js');
      const settings = readServingSettings(env);
      await serve(settings, createLogger(settings.logLevel));
    });

  await program.parseAsync([...argv]);
}
