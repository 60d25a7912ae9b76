/**
 * Several-instance training: every host summarizes its shard, workers POST their summaries to the
 * leader (`hosts[0]`) over HTTP by their resourceconfig host names, the leader waits for all of them
 * and merges. Only the leader goes on to write the model; workers return `undefined`.
 *
 * Wire format of one summary (POST /smkit/exchange/<tag>/<host>):
 * u32 LE header length, UTF-8 JSON header `{version, tag, host, meta, arrays: [{name, length}]}`,
 * zero padding to a multiple of 8, then each array's float64 LE values in header order.
 */
import http from 'node:http';
import net from 'node:net';
import type { TrainContext } from '../../algorithms/types.js';
import { send } from '../io/http-client.js';
import { readBody } from '../io/http-body.js';
import { InputError, SmkitError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** A summary as it travels: JSON metadata plus named float64 arrays. */
export interface WireSummary {
  /** Small JSON-serializable facts (counts, flags). */
  readonly meta: unknown;
  readonly arrays: Readonly<Record<string, Float64Array>>;
}

/** Converts an algorithm's summary type to and from its wire form. */
export interface SummaryCodec<S> {
  encode(summary: S): WireSummary;
  /** Rebuilds a summary from the wire; throws InputError naming `host` when it does not fit. */
  decode(wire: WireSummary, host: string): S;
}

/** Where the hosts are and how long to wait for them. */
export interface ExchangeOptions {
  /** All hosts of the job, in resourceconfig order; the leader is `hosts[0]`. */
  readonly hosts: readonly string[];
  readonly current: string;
  /** Names this exchange (e.g. `pca`), so two exchanges of a job never mix. */
  readonly tag: string;
  /** The leader's port (default 7077). */
  readonly port?: number;
  /** How long the leader waits for all workers and a worker retries reaching the leader (default 900 s). */
  readonly timeoutMs?: number;
  /** Host name -> address to connect to (default: the name itself, resolved by DNS or /etc/hosts). */
  readonly address?: (host: string) => string;
  /** Where the leader listens (default: its address when that is an IP literal, else all interfaces). */
  readonly listenAddress?: string;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

/**
 * The exchange options of a training job: its hosts, where to reach them (`SMKIT_HOST_ADDRESSES` in
 * local mode, else their names), `SMKIT_HOST_WAIT_SECONDS` as the timeout, and the job's stop signal.
 */
export function clusterExchangeOptions(
  context: Pick<TrainContext<unknown>, 'cluster' | 'settings' | 'signal' | 'log'>,
  tag: string,
): ExchangeOptions {
  const { cluster } = context;
  return {
    hosts: cluster.hosts,
    current: cluster.current,
    tag,
    timeoutMs: context.settings.hostWaitSeconds * 1000,
    address: cluster.address,
    signal: context.signal,
    log: context.log,
  };
}

/** The default port of the leader's exchange server. */
export const DEFAULT_EXCHANGE_PORT = 7077;

const MAX_BODY_BYTES = 2 ** 31 - 1;
const RETRY_MS = 250;

interface ArrayEntry {
  readonly name: string;
  readonly length: number;
}

interface Header {
  readonly version: 1;
  readonly tag: string;
  readonly host: string;
  readonly meta?: unknown;
  readonly arrays?: readonly ArrayEntry[];
  /** Set instead of a summary when the worker failed. */
  readonly failure?: string;
}

/** Encodes a summary (or a failure) for the wire. */
export function encodeSummary(header: Omit<Header, 'arrays'>, arrays: WireSummary['arrays'] = {}): Buffer {
  const entries = Object.entries(arrays);
  const json = Buffer.from(
    JSON.stringify({ ...header, arrays: entries.map(([name, data]) => ({ name, length: data.length })) }),
    'utf8',
  );
  const start = Math.ceil((4 + json.length) / 8) * 8;
  const total = start + entries.reduce((sum, [, data]) => sum + data.byteLength, 0);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let at = start;
  for (const [, data] of entries) {
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, at);
    at += data.byteLength;
  }
  return out;
}

/** Decodes a body written by `encodeSummary`; throws InputError when it is malformed. */
export function decodeSummary(body: Buffer): { header: Header; summary: WireSummary } {
  if (body.length < 4) throw new InputError('summary body is shorter than its header length');
  const headerLength = body.readUInt32LE(0);
  if (4 + headerLength > body.length) throw new InputError('summary header runs past the end of the body');
  let header: Header;
  try {
    header = JSON.parse(body.subarray(4, 4 + headerLength).toString('utf8')) as Header;
  } catch (error) {
    throw new InputError(`summary header is not JSON: ${errorMessage(error)}`);
  }
  if (header.version !== 1) throw new InputError(`summary version ${String(header.version)} is not 1`);
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const arrays: Record<string, Float64Array> = {};
  for (const entry of header.arrays ?? []) {
    const bytes = entry.length * 8;
    if (!Number.isInteger(entry.length) || entry.length < 0 || at + bytes > body.length) {
      throw new InputError(`summary array '${entry.name}' (${entry.length} values) runs past the body`);
    }
    const data = new Float64Array(entry.length);
    Buffer.from(data.buffer).set(body.subarray(at, at + bytes));
    arrays[entry.name] = data;
    at += bytes;
  }
  if (at !== body.length)
    throw new InputError(`summary body has ${body.length - at} unexpected trailing bytes`);
  return { header, summary: { meta: header.meta, arrays } };
}

/** Thrown on the leader when a worker reports a failure or never reports at all. */
export class ExchangeError extends SmkitError {
  override readonly name: string = 'ExchangeError';
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function readSummary(request: http.IncomingMessage): Promise<Buffer> {
  return readBody(request, {
    limit: MAX_BODY_BYTES,
    tooLarge: () => new InputError(`summary body is over ${MAX_BODY_BYTES} bytes`),
  }).catch((error: unknown) => {
    request.destroy();
    throw error;
  });
}

/** The leader's side: a server that collects one summary from each worker. */
class Collector<S> {
  readonly received = new Map<string, S>();
  private readonly server: http.Server;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly codec: SummaryCodec<S>,
    private readonly options: ExchangeOptions,
  ) {
    this.server = http.createServer((request, response) => {
      this.handle(request)
        .then(() => {
          response.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok');
        })
        .catch((error: unknown) => {
          const status = error instanceof ExchangeError ? 409 : 400;
          response
            .writeHead(status, { 'content-type': 'text/plain', connection: 'close' })
            .end(errorMessage(error));
        });
    });
  }

  get workers(): readonly string[] {
    return this.options.hosts.filter((host) => host !== this.options.current);
  }

  async listen(address: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error) =>
        reject(new SmkitError(`exchange: cannot listen on ${address}:${port}: ${errorMessage(error)}`)),
      );
      this.server.listen(port, address, () => resolve());
    });
  }

  private async handle(request: http.IncomingMessage): Promise<void> {
    const prefix = `/smkit/exchange/${encodeURIComponent(this.options.tag)}/`;
    if (request.method !== 'POST' || !request.url?.startsWith(prefix)) {
      throw new InputError(`expected POST ${prefix}<host>, got ${request.method} ${request.url}`);
    }
    const { header, summary } = decodeSummary(await readSummary(request));
    const host = header.host;
    if (header.tag !== this.options.tag) {
      throw new InputError(`summary for exchange '${header.tag}' sent to exchange '${this.options.tag}'`);
    }
    if (!this.workers.includes(host)) {
      throw new InputError(
        `host '${host}' is not a worker of this job (workers: ${this.workers.join(', ')})`,
      );
    }
    if (this.received.has(host)) throw new ExchangeError(`host '${host}' already sent its summary`);
    if (header.failure !== undefined) {
      this.fail(new ExchangeError(`host ${host} failed: ${header.failure}`));
      return;
    }
    let decoded: S;
    try {
      decoded = this.codec.decode(summary, host);
    } catch (error) {
      this.fail(new ExchangeError(`the summary of host ${host} is invalid: ${errorMessage(error)}`));
      throw error;
    }
    this.received.set(host, decoded);
    this.options.log?.info(
      { host, received: this.received.size, of: this.workers.length },
      'summary received',
    );
    if (this.received.size === this.workers.length) this.settle?.resolve();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.settle?.reject(error);
  }

  /** Resolves when every worker has reported; rejects on a worker's failure, the timeout or abort. */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.received.size === this.workers.length) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.settle = { resolve, reject };
        timer = setTimeout(() => {
          const missing = this.workers.filter((host) => !this.received.has(host));
          reject(
            new ExchangeError(
              `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the summaries of ${missing.join(', ')}: ` +
                'check that every host runs the same job and can reach the leader',
            ),
          );
        }, timeoutMs);
        onAbort = () => reject(signal?.reason ?? new SmkitError('exchange aborted'));
        if (signal?.aborted) onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    // close() lets a response being written (such as a refusal's reason) finish first.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH']);

/** A worker's side: delivers its body to the leader, retrying while the leader is not up yet. */
async function deliver(body: Buffer, options: ExchangeOptions): Promise<void> {
  const leader = options.hosts[0]!;
  const address = (options.address ?? ((host: string) => host))(leader);
  const hostPart = net.isIPv6(address) ? `[${address}]` : address;
  const url = `http://${hostPart}:${options.port ?? DEFAULT_EXCHANGE_PORT}/smkit/exchange/${encodeURIComponent(options.tag)}/${encodeURIComponent(options.current)}`;
  const deadline = Date.now() + (options.timeoutMs ?? 900_000);
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const response = await send(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
        signal: options.signal,
      });
      if (response.status === 200) return;
      throw new ExchangeError(
        `the leader ${leader} refused the summary of ${options.current}: ${response.body.toString('utf8')}`,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!code || !RETRYABLE.has(code)) throw error;
      lastError = `${code}`;
      await delay(RETRY_MS, options.signal);
    }
  }
  throw new ExchangeError(
    `could not reach the leader ${leader} at ${url} within ${Math.round((options.timeoutMs ?? 900_000) / 1000)} s (last error ${lastError})`,
  );
}

/**
 * Runs `compute` on this host and gathers every host's summary on the leader.
 * The leader listens before it computes (so early workers are not refused), then returns all
 * summaries in `hosts` order; a worker sends its summary (or its failure) and returns `undefined`.
 * With a single host no server is started.
 * @example
 * const all = await exchangeSummaries(() => summarize(stream), codec, { hosts, current, tag: 'pca' });
 * if (all) writeModel(merge(all));
 */
export async function exchangeSummaries<S>(
  compute: () => Promise<S>,
  codec: SummaryCodec<S>,
  options: ExchangeOptions,
): Promise<S[] | undefined> {
  const { hosts, current } = options;
  if (!hosts.includes(current))
    throw new InputError(`current host '${current}' is not in hosts ${hosts.join(', ')}`);
  if (hosts.length === 1) return [await compute()];
  if (current !== hosts[0]) {
    let summary: S;
    try {
      summary = await compute();
    } catch (error) {
      await deliver(
        encodeSummary({ version: 1, tag: options.tag, host: current, failure: errorMessage(error) }),
        {
          ...options,
          timeoutMs: Math.min(options.timeoutMs ?? 900_000, 30_000),
        },
      ).catch(() => undefined);
      throw error;
    }
    const wire = codec.encode(summary);
    await deliver(
      encodeSummary({ version: 1, tag: options.tag, host: current, meta: wire.meta }, wire.arrays),
      options,
    );
    options.log?.info({ leader: hosts[0] }, 'summary sent to the leader');
    return undefined;
  }
  const collector = new Collector(codec, options);
  const address = (options.address ?? ((host: string) => host))(current);
  await collector.listen(
    options.listenAddress ?? (net.isIP(address) ? address : '0.0.0.0'),
    options.port ?? DEFAULT_EXCHANGE_PORT,
  );
  try {
    const local = await compute();
    await collector.wait(options.timeoutMs ?? 900_000, options.signal);
    return hosts.map((host) => (host === current ? local : collector.received.get(host)!));
  } finally {
    await collector.close();
  }
}
