import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A command prefix that runs the rest in a private mount namespace after `script` (a `sh -c` body whose
 * `$0` is `arg`, ending in `exec "$@"`), or `undefined` when that is not possible (not root, no unshare).
 * `unshare` without `--fork` execs in place, so the PID and signals stay those of the final program.
 */
export async function mountNamespacePrefix(
  script: string,
  arg: string,
  uid: number | undefined,
): Promise<string[] | undefined> {
  if (uid !== 0) return undefined;
  try {
    await run('unshare', ['-m', 'sh', '-c', script, arg, 'true'], { timeout: 10_000 });
    return ['unshare', '-m', 'sh', '-c', script, arg];
  } catch {
    return undefined;
  }
}

/** Prefix that shows the model dir read-only to the program, as SageMaker mounts /opt/ml/model. */
export function readOnlyMountPrefix(dir: string, uid: number | undefined): Promise<string[] | undefined> {
  return mountNamespacePrefix(
    'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"',
    dir,
    uid,
  );
}

/**
 * Prefix that makes `algo-1`, `algo-2`, ... resolve to their loopback addresses for the program (an
 * /etc/hosts with extra lines bind-mounted over the real one), as `docker run --add-host` does.
 */
export async function hostsFilePrefix(
  hosts: readonly { host: string; address: string }[],
  file: string,
  uid: number | undefined,
): Promise<string[] | undefined> {
  const current = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1 localhost\n');
  const extra = hosts.map((h) => `${h.address} ${h.host}`).join('\n');
  await writeFile(file, `${current.trimEnd()}\n${extra}\n`);
  return mountNamespacePrefix('mount --bind "$0" /etc/hosts && exec "$@"', file, uid);
}
