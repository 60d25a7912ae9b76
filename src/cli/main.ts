import { Command, Help, type Option } from 'commander';
import { smkitVersion } from '../util/version.js';
import { SmkitError } from '../util/errors.js';
import { registerDemoCommand } from './demo-command.js';
import { envHelp, SERVE_ENV, TRAIN_ENV } from './env-help.js';
import { type CliContext, registerLocalCommands } from './local-commands.js';

const plainHelp = new Help();

/** An option's help text, with `(required)` for the options a command cannot run without. */
function describeOption(option: Option): string {
  const text = plainHelp.optionDescription(option);
  return option.mandatory ? `${text} (required)` : text;
}

/**
 * The `smkit` command. SageMaker runs the image as `IMAGE train` or `IMAGE serve`;
 * the same commands work from a checkout with `SAGEMAKER_BASE_DIR` pointing at a job tree.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const program = new Command('smkit')
    .description('SageMaker bring-your-own-container toolkit for Node.js')
    .version(smkitVersion(), '-V, --version', 'print the smkit version')
    .showHelpAfterError()
    // Subcommands inherit this: required options say so in every --help.
    .configureHelp({ optionDescription: describeOption });

  // Commands: `train` (src/train), `serve` (src/serve), `local` and `demo` (src/local). Each loads its
  // modules when it runs, so one command does not pay for the others' start-up.
  program
    .command('train')
    .description(
      'run the training job under SAGEMAKER_BASE_DIR (default /opt/ml): a user script (sagemaker_program) ' +
        'or a built-in algorithm (smkit_algorithm / SMKIT_ALGORITHM); exits non-zero with output/failure on failure',
    )
    .addHelpText('after', envHelp(TRAIN_ENV))
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
    .addHelpText('after', envHelp(SERVE_ENV))
    .action(async () => {
      const [{ readServingSettings }, { serve }, { createLogger }] = await Promise.all([
        import('../contract/index.js'),
        import('../serve/server.js'),
        import('../util/log.js'),
      ]);
      const settings = readServingSettings(env);
      try {
        await serve(settings, createLogger(settings.logLevel));
      } catch (error) {
        // A mistake in the setup (a busy port, multi-model mode) is one line, not a stack trace.
        if (!(error instanceof SmkitError)) throw error;
        process.stderr.write(`smkit serve: ${error.message}\n`);
        process.exit(1);
      }
    });

  const context: CliContext = {
    env,
    // Subprocesses run this same CLI: the same Node, loader flags (tsx in tests) and script.
    smkitCommand: [process.execPath, ...process.execArgv, argv[1] ?? 'smkit'],
    stdout: process.stdout,
    stderr: process.stderr,
  };
  registerLocalCommands(program, context);
  registerDemoCommand(program, context);

  await program.parseAsync([...argv]);
}
