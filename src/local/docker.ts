import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SmkitError } from '../util/errors.js';

const run = promisify(execFile);

/** Fails with a one-line message when no Docker engine answers. */
export async function checkDocker(docker = 'docker'): Promise<void> {
  try {
    await run(docker, ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SmkitError(
      missing
        ? 'docker is not installed: install Docker, or drop --image to run smkit without Docker'
        : 'Docker is not running: start the Docker engine (dockerd), or drop --image to run smkit without Docker',
    );
  }
}

/** Whether `docker run IMAGE ARG` failed because the image has no such command (exit 126/127 from the runtime). */
export function isMissingCommand(exitCode: number | null, stderr: string): boolean {
  return (
    exitCode === 127 ||
    exitCode === 126 ||
    /executable file not found|exec: ".*": |no such file or directory.*exec/i.test(stderr)
  );
}

/** The message for an image that does not understand `train` or `serve`. */
export function missingCommandMessage(image: string, command: 'train' | 'serve'): string {
  return `image ${image} does not support \`${command}\`: SageMaker runs \`docker run IMAGE ${command}\`, so its exec-form ENTRYPOINT must accept '${command}' (build it from smkit's Dockerfile or add a '${command}' executable on PATH)`;
}
