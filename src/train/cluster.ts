import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceConfig } from '../contract/index.js';
import { SmkitError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** The hosts of a training job as the runner knows them; the leader is `hosts[0]`. */
export interface JobHosts {
  readonly current: string;
  readonly hosts: readonly string[];
  readonly leader: string;
  readonly isLeader: boolean;
  readonly resourceConfig: Readonly<ResourceConfig>;
  /**
   * Where to reach `host`: its IP from `SMKIT_HOST_ADDRESSES` when local mode set one (the names do not
   * resolve there), else the name itself, resolved by DNS as on SageMaker.
   */
  address(host: string): string;
}

/**
 * The hosts of a job from resourceconfig.json; the leader is `hosts[0]`. `hostAddresses`
 * (`SMKIT_HOST_ADDRESSES`) maps host names to the IPs to reach them at; unmapped names resolve by DNS.
 */
export function createCluster(
  resourceConfig: Readonly<ResourceConfig>,
  hostAddresses: Readonly<Record<string, string>> = {},
): JobHosts {
  const leader = resourceConfig.hosts[0] ?? resourceConfig.current_host;
  return Object.freeze({
    current: resourceConfig.current_host,
    hosts: Object.freeze([...resourceConfig.hosts]),
    leader,
    isLeader: resourceConfig.current_host === leader,
    resourceConfig,
    address: (host: string) => (Object.hasOwn(hostAddresses, host) ? hostAddresses[host]! : host),
  });
}

/** Options of {@link waitForPeers}. */
export interface WaitForPeersOptions {
  /** Give up after this many seconds (`SMKIT_HOST_WAIT_SECONDS`). */
  readonly waitSeconds: number;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Waits until the name of every other host resolves, retrying with exponential backoff (0.1 s doubling
 * up to 10 s), as peers' DNS entries may appear late. Hosts with an IP address (`SMKIT_HOST_ADDRESSES`)
 * need no lookup. A single-host job returns at once. Fails with a message naming the hosts that never
 * resolved.
 */
export async function waitForPeers(cluster: JobHosts, options: WaitForPeersOptions): Promise<void> {
  let pending = cluster.hosts.filter((host) => host !== cluster.current && !isIP(cluster.address(host)));
  const deadline = Date.now() + options.waitSeconds * 1000;
  let delay = 100;
  const errors = new Map<string, string>();
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map(async (host) => {
        try {
          await lookup(host);
          return undefined;
        } catch (error) {
          errors.set(host, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
          return host;
        }
      }),
    );
    pending = results.filter((host): host is string => host !== undefined);
    if (pending.length === 0) break;
    const left = deadline - Date.now();
    if (left <= 0 || options.signal?.aborted) {
      const names = pending.map((host) => `${host} (${errors.get(host)})`).join(', ');
      throw new SmkitError(
        `host name ${names} did not resolve within ${options.waitSeconds} s; the other hosts of ` +
          `resourceconfig.json must be reachable by name (raise SMKIT_HOST_WAIT_SECONDS if they start slowly)`,
      );
    }
    options.log.info({ pending, retryInMs: Math.min(delay, left) }, 'waiting for peer hosts to resolve');
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 10_000);
  }
  if (cluster.hosts.length > 1) {
    const addresses = Object.fromEntries(cluster.hosts.map((host) => [host, cluster.address(host)]));
    options.log.info({ addresses }, 'all hosts are reachable');
  }
}
