import { describe, expect, test } from 'vitest';
import { parseProgressMetricLine, progressMetricLine } from '../../src/train/metric-lines.js';

describe('parseProgressMetricLine', () => {
  test.each([0, 33.333, 66.667, 100])('reads back what progressMetricLine writes (%s %%)', (percent) => {
    expect(parseProgressMetricLine(progressMetricLine('algo-2', percent))).toEqual({
      host: 'algo-2',
      percent,
    });
  });

  test("reads SageMaker's own line, as in the job log", () => {
    expect(parseProgressMetricLine('#progress_metric: host=algo-1, completed 100 % of epochs')).toEqual({
      host: 'algo-1',
      percent: 100,
    });
  });

  test.each([
    '#quality_metric: host=algo-1, train msd <loss>=0.43',
    'algo-1 | #progress_metric: host=algo-1, completed 50 % of epochs',
    '#progress_metric: host=algo-1, completed many % of epochs',
    '#progress_metric: host=algo-1, completed 50 %',
  ])('ignores other lines: %s', (line) => {
    expect(parseProgressMetricLine(line)).toBeUndefined();
  });
});
