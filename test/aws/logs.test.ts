import {
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandOutput,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, test } from 'vitest';
import { AwsError } from '../../src/aws/errors.js';
import { LogFollower, streamHost } from '../../src/aws/logs.js';
import type { AwsSession } from '../../src/aws/session.js';

/**
 * A CloudWatch Logs service in memory behind the session interface (the SDK commands are the real
 * ones): streams appear and grow as a test says, and DescribeLogStreams can be made to throttle.
 */
function logService() {
  const streams = new Map<string, string[]>();
  const calls: string[] = [];
  let throttle = 0;
  const session = {
    async call(_service: string, command: object) {
      if (command instanceof DescribeLogStreamsCommand) {
        calls.push('DescribeLogStreams');
        if (throttle > 0) {
          throttle--;
          throw new AwsError(
            'CloudWatch Logs DescribeLogStreams: ThrottlingException: Rate exceeded',
            'ThrottlingException',
            400,
          );
        }
        const prefix = command.input.logStreamNamePrefix ?? '';
        return {
          logStreams: [...streams.keys()]
            .filter((n) => n.startsWith(prefix))
            .map((logStreamName) => ({ logStreamName })),
          $metadata: {},
        } satisfies DescribeLogStreamsCommandOutput;
      }
      if (command instanceof GetLogEventsCommand) {
        calls.push(`GetLogEvents ${command.input.logStreamName}`);
        const lines = streams.get(command.input.logStreamName!) ?? [];
        const from = Number(command.input.nextToken ?? 0);
        return {
          events: lines.slice(from).map((message) => ({ message })),
          nextForwardToken: String(lines.length),
          $metadata: {},
        } satisfies GetLogEventsCommandOutput;
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    },
  } as unknown as AwsSession;
  return {
    session,
    calls,
    write(stream: string, ...lines: string[]) {
      streams.set(stream, [...(streams.get(stream) ?? []), ...lines]);
    },
    throttleNext(count: number) {
      throttle = count;
    },
  };
}

describe('LogFollower reads a job’s log streams within DescribeLogStreams’ rate limit', () => {
  test('each line once, in order, per host; streams of other jobs ignored', async () => {
    const service = logService();
    let now = 0;
    const lines: string[] = [];
    const follower = new LogFollower({
      session: service.session,
      group: '/aws/sagemaker/TrainingJobs',
      jobName: 'job',
      expectedStreams: 2,
      onLine: (stream, line) => lines.push(`${streamHost(stream)} | ${line}`),
      now: () => now,
    });
    service.write('job/algo-1-1700000000', 'a1', 'a2');
    service.write('job-2/algo-1-1700000000', 'other job');
    await follower.poll();
    service.write('job/algo-1-1700000000', 'a3');
    service.write('job/algo-2-1700000000', 'b1');
    now += 1000;
    await follower.poll();
    await follower.poll();
    expect(lines).toEqual(['algo-1 | a1', 'algo-1 | a2', 'algo-1 | a3', 'algo-2 | b1']);
  });

  test('DescribeLogStreams at most once a second, backing off while nothing new appears, never once all are found', async () => {
    const service = logService();
    let now = 0;
    const follower = new LogFollower({
      session: service.session,
      group: 'g',
      jobName: 'job',
      expectedStreams: 2,
      onLine: () => undefined,
      now: () => now,
    });
    const describes = () => service.calls.filter((c) => c === 'DescribeLogStreams').length;
    // Polled every 100 ms for 3 s with no stream: 1 s, then 2 s apart.
    for (; now < 3000; now += 100) await follower.poll();
    expect(describes()).toBe(2);
    service.write('job/algo-1-1', 'x');
    service.write('job/algo-2-1', 'y');
    for (; now < 8000; now += 100) await follower.poll();
    expect(describes()).toBe(3);
    expect(follower.streamNames).toEqual(['job/algo-1-1', 'job/algo-2-1']);
    for (; now < 20_000; now += 100) await follower.poll();
    expect(describes()).toBe(3);
  });

  test('throttling slows DescribeLogStreams down instead of failing the wait', async () => {
    const service = logService();
    let now = 0;
    const lines: string[] = [];
    const follower = new LogFollower({
      session: service.session,
      group: 'g',
      jobName: 'job',
      expectedStreams: 1,
      onLine: (_stream, line) => lines.push(line),
      now: () => now,
    });
    service.write('job/algo-1-1', 'hello');
    service.throttleNext(2);
    await follower.poll();
    now += 1000;
    await follower.poll(); // within the 2 s back-off after the first throttle: no call
    now += 1000;
    await follower.poll(); // throttled again: 4 s
    now += 4000;
    await follower.poll();
    expect(service.calls.filter((c) => c === 'DescribeLogStreams')).toHaveLength(3);
    expect(lines).toEqual(['hello']);
  });
});
