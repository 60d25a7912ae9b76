import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createMetricsWriter } from '../../src/train/metrics.js';
import { sortedJson, userArgs } from '../../src/train/script-env.js';

describe('userArgs', () => {
  test('sorts keys, uses -k for one letter and writes values as their text', () => {
    expect(
      userArgs({ lr: 0.1, b: true, name: 'x y', list: ['a', 1], opts: { z: 1, a: 'b' }, none: null }),
    ).toEqual([
      '-b',
      'true',
      '--list',
      '["a",1]',
      '--lr',
      '0.1',
      '--name',
      'x y',
      '--none',
      'null',
      '--opts',
      'a=b,z=1',
    ]);
  });
});

describe('sortedJson', () => {
  test('sorts object keys at every level and keeps array order', () => {
    expect(sortedJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });
});

describe('createMetricsWriter', () => {
  test('writes each line at once, newline-terminated', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'smkit-metrics-')), 'stdout');
    const fd = openSync(file, 'w');
    const metrics = createMetricsWriter(fd);
    metrics.line('#quality_metric: host=algo-1, epoch=0, train msd <loss>=0.5');
    expect(readFileSync(file, 'utf8')).toBe('#quality_metric: host=algo-1, epoch=0, train msd <loss>=0.5\n');
    metrics.line('done\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
  });
});
