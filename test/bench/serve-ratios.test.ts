import { describe, expect, test } from 'vitest';
import { type Measured, type PhaseResults, servingRatios } from '../../bench/serve-ratios.js';

const run = (requestsPerSecond: number, p99Ms: number, cpuMicrosPerRequest: number): Measured => ({
  requestsPerSecond,
  p50Ms: p99Ms / 3,
  p99Ms,
  errors: 0,
  requests: requestsPerSecond * 6,
  cpuMicrosPerRequest,
});
const multi: PhaseResults = {
  peer: run(46, 800, 40_000),
  smkit: run(200, 150, 9_000),
  bare: run(120, 250, 16_000),
};
const single: PhaseResults = {
  peer: run(320, 170, 6_000),
  smkit: run(12_800, 10, 110),
  bare: run(15_000, 6, 96),
  baseline: run(10_000, 20, 160),
};

describe('bench/serve.ts ratios', () => {
  test('--only-bodies: no single-row ratio, target or /ping target from the 1000-row phase', () => {
    const { ratios, targets, lines } = servingRatios({ multi }, {});
    expect(lines.filter((line) => /single|\/ping/.test(line))).toEqual([]);
    expect(Object.keys(ratios).filter((name) => name.startsWith('single'))).toEqual([]);
    expect(targets).toEqual({ '1000-row rows/s >= 10x peer': false });
    expect(lines).toContain('  1000-row rows/s   smkit / peer = 4.3x');
  });

  test('the single-row goals of issue 14, and after / before with --baseline', () => {
    const ping = { ...run(1000, 30, 0) };
    const { targets, lines } = servingRatios({ single, multi }, { single: ping, multi: ping });
    expect(targets).toMatchObject({
      'single-row req/s >= 0.8x bare node:http': true,
      'single-row p99 <= 2x bare node:http': true,
      '/ping p99 < 50 ms while saturated': true,
    });
    expect(lines).toContain('  single-row req/s  smkit / bare node:http = 0.85x');
    expect(lines).toContain('  single-row p99    smkit / bare node:http = 1.67x');
    expect(lines).toContain('  CPU per request   baseline / smkit = 1.45x (single row, after / before)');
  });
});
