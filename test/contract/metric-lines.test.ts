import { describe, expect, test } from 'vitest';
import {
  parseProgressMetricLine,
  progressMetricDefinition,
  progressMetricLine,
  qualityMetricDefinition,
  qualityMetricLine,
  throughputMetricDefinition,
  throughputMetricLine,
} from '../../src/contract/metric-lines.js';

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

describe('metric definitions', () => {
  test.each([
    [qualityMetricDefinition('test', 'ssd'), qualityMetricLine('algo-2', 'test', 'ssd', 1234.5), '1234.5'],
    [progressMetricDefinition(), progressMetricLine('algo-1', 66.6666), '66.667'],
    [throughputMetricDefinition('train'), throughputMetricLine('algo-1', 'train', 4053.27), '4053.27'],
  ])('%j reads back the value its line writes', (definition, line, value) => {
    expect(new RegExp(definition.Regex).exec(line)?.[1]).toBe(value);
  });

  test('names and regexes are the ones SageMaker documents for its built-ins', () => {
    expect(qualityMetricDefinition('train', 'msd')).toEqual({
      Name: 'train:msd',
      Regex: '#quality_metric: host=\\S+, train msd <loss>=(\\S+)',
    });
  });
});
