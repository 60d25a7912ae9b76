import { Command } from 'commander';

/**
 * The `smkit` command. SageMaker runs the image as `IMAGE train` or `IMAGE serve`;
 * the same commands work from a checkout with `SAGEMAKER_BASE_DIR` pointing at a job tree.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('smkit')
    .description('SageMaker bring-your-own-container toolkit for Node.js')
    .showHelpAfterError();

  // Commands: `train` (src/train), `serve` (src/serve), `local` (src/local).

  await program.parseAsync([...argv]);
}
