import { describe, expect, it } from 'vitest';
import {
  encodeBuiltInHyperparameters,
  encodeScriptModeHyperparameters,
} from '../../src/contract/hyperparameter-encoding.js';

describe('hyperparameter encoding', () => {
  it('JSON-encodes every value for script mode, typing command-line strings', () => {
    expect(
      encodeScriptModeHyperparameters(
        { lr: '0.1', name: 'abc', on: 'True', list: '[1,2]', fromFile: 'x', n: 3 },
        new Set(['lr', 'name', 'on', 'list']),
      ),
    ).toEqual({ lr: '0.1', name: '"abc"', on: 'true', list: '[1,2]', fromFile: '"x"', n: '3' });
  });

  it("uses Python's str() for built-in algorithms", () => {
    expect(
      encodeBuiltInHyperparameters({ k: 3, force_dense: true, eval_metrics: ['msd', 'ssd'], m: 'x' }),
    ).toEqual({
      k: '3',
      force_dense: 'True',
      eval_metrics: '["msd","ssd"]',
      m: 'x',
    });
  });
});
