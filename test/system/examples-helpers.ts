/**
 * What the examples' system tests share: an example's run.ts run as a user runs it (`npx tsx
 * examples/.../run.ts`, from the repo root) and an image built from an example's Dockerfile.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { mustRun, run } from '../../scripts/docker-image.js';
import { AWS_TEST_ENV, type CliRun, MOTO_ACCOUNT } from './aws-helpers.js';

export const root = path.resolve(import.meta.dirname, '../..');

/** Runs `node --import tsx examples/<example>/run.ts ARGS` from the repo root with the AWS test credentials. */
export async function runExample(example: string, args: readonly string[]): Promise<CliRun> {
  const result = await run(
    process.execPath,
    ['--import', 'tsx', path.join('examples', example, 'run.ts'), ...args],
    { cwd: root, env: AWS_TEST_ENV },
  );
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** `docker build --network host` with BuildKit (the engine's own client: the build context is small). */
export async function buildImage(
  context: string,
  tag: string,
  buildArgs: Record<string, string>,
  dockerfile?: string,
): Promise<void> {
  const client = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
  const args = ['build', '--network', 'host', '-t', tag];
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  if (dockerfile) args.push('-f', dockerfile);
  await mustRun(client, [...args, context], { env: { DOCKER_BUILDKIT: '1' } });
}

/** The role every AWS example passes. */
export const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/service-role/SageMakerRole`;

/** The commands an example echoed (`$ smkit local train ...` -> `smkit local train`), in order. */
export function echoedCommands(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('$ smkit '))
    .map((line) => {
      const words = line.slice(2).split(' ');
      const flag = words.findIndex((word) => word.startsWith('-'));
      return words.slice(0, flag < 0 ? words.length : flag).join(' ');
    });
}
