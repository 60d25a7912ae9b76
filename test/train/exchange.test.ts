import { describe, expect, test } from 'vitest';
import {
  type ExchangeOptions,
  type SummaryCodec,
  decodeSummary,
  encodeSummary,
  exchangeSummaries,
} from '../../src/train/exchange.js';
import { InputError } from '../../src/util/errors.js';

interface Sums {
  readonly n: number;
  readonly sum: Float64Array;
}

const codec: SummaryCodec<Sums> = {
  encode: (s) => ({ meta: { n: s.n }, arrays: { sum: s.sum } }),
  decode: (wire, host) => {
    const sum = wire.arrays['sum'];
    if (!sum || sum.length !== 3) throw new InputError(`host ${host}: sum must have 3 values`);
    return { n: (wire.meta as { n: number }).n, sum };
  },
};

/** Hosts named by loopback addresses, so each test has its own leader address. */
function cluster(first: number, count: number, port: number) {
  const hosts = Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);
  return (current: string): ExchangeOptions => ({ hosts, current, tag: 'test', port, timeoutMs: 5000 });
}

describe('several-instance summary exchange', () => {
  test('the wire format round-trips meta and float64 arrays exactly', () => {
    const sum = new Float64Array([1.5, -0, Number.MIN_VALUE, 1e308]);
    const body = encodeSummary({ version: 1, tag: 't', host: 'algo-2', meta: { n: 7 } }, { sum });
    expect(body.length % 8).toBe(0);
    const { header, summary } = decodeSummary(body);
    expect(header.host).toBe('algo-2');
    expect(summary.meta).toEqual({ n: 7 });
    expect(Buffer.from(summary.arrays['sum']!.buffer)).toEqual(Buffer.from(sum.buffer));
    expect(() => decodeSummary(body.subarray(0, body.length - 8))).toThrow(/runs past the body/);
  });

  test('the leader gets every summary in hosts order; workers return undefined', async () => {
    const options = cluster(21, 3, 17301);
    const hosts = options('127.0.0.21').hosts;
    const results = await Promise.all(
      hosts.map((host, i) =>
        exchangeSummaries(
          async () => {
            // The leader computes slowest, so workers must wait for it or be stored before it finishes.
            await new Promise((r) => setTimeout(r, i === 0 ? 300 : 10 * i));
            return { n: i + 1, sum: new Float64Array([i, i + 0.5, -i]) };
          },
          codec,
          options(host),
        ),
      ),
    );
    expect(results[1]).toBeUndefined();
    expect(results[2]).toBeUndefined();
    expect(results[0]!.map((s) => s.n)).toEqual([1, 2, 3]);
    expect(results[0]!.map((s) => [...s.sum])).toEqual([
      [0, 0.5, -0],
      [1, 1.5, -1],
      [2, 2.5, -2],
    ]);
  });

  test('a worker that starts before the leader retries until the leader listens', async () => {
    const options = cluster(24, 2, 17302);
    const worker = exchangeSummaries(
      async () => ({ n: 2, sum: new Float64Array(3) }),
      codec,
      options('127.0.0.25'),
    );
    await new Promise((r) => setTimeout(r, 600));
    const leader = await exchangeSummaries(
      async () => ({ n: 1, sum: new Float64Array(3) }),
      codec,
      options('127.0.0.24'),
    );
    expect(await worker).toBeUndefined();
    expect(leader!.map((s) => s.n)).toEqual([1, 2]);
  });

  test("a worker's failure fails the leader with the worker's message", async () => {
    const options = cluster(27, 2, 17303);
    const [leader, worker] = await Promise.allSettled([
      exchangeSummaries(async () => ({ n: 1, sum: new Float64Array(3) }), codec, options('127.0.0.27')),
      exchangeSummaries(
        async () => {
          throw new InputError('train/part-2.csv line 4: expected 3 values, got 2');
        },
        codec,
        options('127.0.0.28'),
      ),
    ]);
    expect(worker.status).toBe('rejected');
    expect(leader.status).toBe('rejected');
    expect((leader as PromiseRejectedResult).reason.message).toBe(
      'host 127.0.0.28 failed: train/part-2.csv line 4: expected 3 values, got 2',
    );
  });

  test('a summary that does not fit is refused with the reason on both sides', async () => {
    const options = cluster(30, 2, 17304);
    const [leader, worker] = await Promise.allSettled([
      exchangeSummaries(async () => ({ n: 1, sum: new Float64Array(3) }), codec, options('127.0.0.30')),
      exchangeSummaries(async () => ({ n: 1, sum: new Float64Array(2) }), codec, options('127.0.0.31')),
    ]);
    expect((worker as PromiseRejectedResult).reason.message).toMatch(
      /leader 127.0.0.30 refused the summary of 127.0.0.31: host 127.0.0.31: sum must have 3 values/,
    );
    expect((leader as PromiseRejectedResult).reason.message).toMatch(/summary of host 127.0.0.31 is invalid/);
  });

  test('the leader times out naming the hosts it never heard from', async () => {
    const options = cluster(33, 3, 17305);
    const leader = exchangeSummaries(async () => ({ n: 1, sum: new Float64Array(3) }), codec, {
      ...options('127.0.0.33'),
      timeoutMs: 300,
    });
    await expect(leader).rejects.toThrow(
      /timed out after 0 s waiting for the summaries of 127.0.0.34, 127.0.0.35/,
    );
  });

  test('a single host needs no server', async () => {
    const result = await exchangeSummaries(async () => ({ n: 5, sum: new Float64Array(3) }), codec, {
      hosts: ['algo-1'],
      current: 'algo-1',
      tag: 'test',
    });
    expect(result!.map((s) => s.n)).toEqual([5]);
  });
});
