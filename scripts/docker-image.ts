/**
 * Docker helpers shared by the system tests and the cold-start benchmark: start the engine
 * (scripts/start-docker.sh), build the registry-free base (scripts/build-offline-base.sh) and the
 * smkit image, run the docker CLI. Every failure throws with the command's own output, so a
 * machine without Docker fails loudly instead of skipping.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** What a finished docker (or other) command printed, and its exit code. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and with which extra environment a command runs. */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs a command to completion; never throws on a non-zero exit (see {@link mustRun}). */
export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Runs a command and throws with its output when it exits non-zero. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code}:\n${result.stderr.slice(-4000)}${result.stdout.slice(-2000)}`,
    );
  }
  return result.stdout;
}

/** `docker ARGS...`, throwing on failure. */
export function docker(...args: string[]): Promise<string> {
  return mustRun('docker', args);
}

/** Options of {@link buildSmkitImage}. */
export interface BuildImageOptions {
  /** The repository checkout (build context). */
  readonly root: string;
  /** Tag of the smkit image to build. */
  readonly tag: string;
  /** Tag of the base image (built by scripts/build-offline-base.sh when missing). */
  readonly baseTag: string;
  /** Extra `--build-arg`s, e.g. `{ SMKIT_ALGORITHM: 'kmeans' }`. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /**
   * Cross build: the target architecture (`docker build --platform linux/ARCH`). `baseTag` is then
   * built for it, and `buildBaseTag` (the build machine's architecture) runs the build stage.
   */
  readonly cross?: { readonly arch: 'amd64' | 'arm64'; readonly buildBaseTag: string };
}

/** The docker client that speaks BuildKit without the buildx plugin (Debian's docker.io ships it). */
function buildkitClient(): string {
  return process.platform === 'linux' ? '/usr/bin/docker' : 'docker';
}

/**
 * Starts the engine if needed, builds the offline base and the smkit image (BuildKit; the layer cache
 * makes a rebuild of unchanged sources quick) and returns `docker history` of the image.
 */
export async function buildSmkitImage(options: BuildImageOptions): Promise<string> {
  const { root, tag, baseTag } = options;
  await mustRun('bash', [path.join(root, 'scripts/start-docker.sh')]);
  const baseScript = path.join(root, 'scripts/build-offline-base.sh');
  const { cross } = options;
  const args = ['build', '--network', 'host', '--build-arg', `BASE_IMAGE=${baseTag}`, '-t', tag];
  if (cross) {
    await mustRun('bash', [baseScript, '--tag', cross.buildBaseTag]);
    await mustRun('bash', [baseScript, '--arch', cross.arch, '--tag', baseTag]);
    args.push('--platform', `linux/${cross.arch}`, '--build-arg', `BUILD_BASE_IMAGE=${cross.buildBaseTag}`);
  } else {
    await mustRun('bash', [baseScript, '--tag', baseTag]);
  }
  for (const [key, value] of Object.entries(options.buildArgs ?? {}))
    args.push('--build-arg', `${key}=${value}`);
  const result = await run(buildkitClient(), [...args, root], { env: { DOCKER_BUILDKIT: '1' } });
  if (result.code !== 0)
    throw new Error(`docker build of ${tag} failed:\n${(result.stdout + result.stderr).slice(-6000)}`);
  return docker('history', tag);
}

/** Bytes the image adds above its base: the sum of the layers `docker history` lists above the base's. */
export async function layersAboveBase(image: string, base: string): Promise<number> {
  const sizes = async (ref: string) =>
    (await docker('history', '--no-trunc', '--human=false', '--format', '{{.Size}}', ref))
      .trim()
      .split('\n')
      .map(Number);
  const all = await sizes(image);
  const baseCount = (await sizes(base)).length;
  return all.slice(0, all.length - baseCount).reduce((sum, n) => sum + n, 0);
}
