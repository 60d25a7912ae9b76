import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ENV, type Env } from '../contract/index.js';
import type { SageMakerPaths } from '../contract/index.js';
import type { HostTree } from './job-tree.js';
import { hostsFilePrefix } from './namespace.js';

/** How a host of a local job is started: `smkit train` as a child process, or a Docker container. */
export interface HostLauncher {
  /** The container's view of the tree root (`/opt/ml` in Docker, the tree itself otherwise). */
  baseDir(paths: SageMakerPaths): string;
  /** Called once before the hosts start, with a scratch dir and the host map. */
  prepare?(workDir: string, hosts: readonly HostAddress[], warn: (message: string) => void): Promise<void>;
  start(tree: HostTree, env: Readonly<Record<string, string>>): ChildProcess;
  /** SIGTERM, as `docker stop` or StopTrainingJob sends it to PID 1. */
  stop(child: ChildProcess): void;
  /** SIGKILL everything the host started. */
  kill(child: ChildProcess, tree: HostTree): void;
}

/** A host name and the loopback address it runs on. */
export interface HostAddress {
  readonly host: string;
  readonly address: string;
}

/** `algo-1=127.0.0.2,algo-2=127.0.0.3`: the host map handed to every host. */
export function hostAddressList(hosts: readonly HostAddress[]): string {
  return hosts.map((host) => `${host.host}=${host.address}`).join(',');
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * Runs `COMMAND... train` with SAGEMAKER_BASE_DIR at the host's tree, in its own process group so that
 * the final SIGKILL reaches user scripts too, while SIGTERM goes to the toolkit only (as PID 1 gets it).
 * `prefix` wraps the command (e.g. a mount namespace where the host names resolve).
 */
export function subprocessLauncher(command: readonly string[], parentEnv: Env, uid?: number): HostLauncher {
  if (command.length === 0) throw new Error('subprocessLauncher: empty command');
  let prefix: readonly string[] = [];
  return {
    baseDir: (paths) => paths.base,
    async prepare(workDir, hosts, warn) {
      if (hosts.length < 2) return;
      const wrapped = await hostsFilePrefix(hosts, path.join(workDir, 'hosts'), uid);
      if (wrapped) prefix = wrapped;
      else {
        warn(
          `${hosts.map((h) => h.host).join(', ')} do not resolve here (a private /etc/hosts needs root and unshare); the hosts get ${ENV.hostAddresses} instead`,
        );
      }
    },
    start(tree, env) {
      const [file, ...args] = [...prefix, ...command];
      return spawn(file!, [...args, 'train'], {
        env: { ...parentEnv, ...env, [ENV.baseDir]: tree.paths.base },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    },
    stop: (child) => signal(child.pid, 'SIGTERM'),
    kill: (child) => signal(child.pid === undefined ? undefined : -child.pid, 'SIGKILL'),
  };
}

/** Runs `docker run --network host -v TREE:/opt/ml IMAGE train`, one container per host. */
export function dockerLauncher(image: string, jobName: string, hosts: readonly HostAddress[]): HostLauncher {
  const name = (tree: HostTree) => `${jobName}-${tree.host}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  return {
    baseDir: () => '/opt/ml',
    start(tree, env) {
      const args = ['run', '--rm', '--name', name(tree), '--network', 'host'];
      for (const host of hosts) args.push('--add-host', `${host.host}:${host.address}`);
      for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
      args.push('-v', `${tree.paths.base}:/opt/ml`, image, 'train');
      return spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    },
    // docker run proxies SIGTERM to the container's PID 1.
    stop: (child) => signal(child.pid, 'SIGTERM'),
    kill(child, tree) {
      spawn('docker', ['kill', name(tree)], { stdio: 'ignore' }).on('error', () => undefined);
      signal(child.pid, 'SIGKILL');
    },
  };
}
