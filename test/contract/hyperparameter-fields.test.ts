import { describe, expect, test } from 'vitest';
import {
  booleanField,
  enumField,
  floatField,
  hyperparameterSchema,
  integerField,
  listField,
} from '../../src/contract/hyperparameter-fields.js';

describe('field parsers read every SDK spelling', () => {
  test.each([
    [integerField({ min: 1 }), '3', 3],
    [integerField({ min: 1 }), '"3"', 3],
    [integerField({ min: 1 }), ' +7 ', 7],
    [integerField({ min: 1, auto: 10 }), 'auto', 10],
    [floatField({ min: 0, max: 1 }), '0.0001', 0.0001],
    [floatField(), '"-2.5e3"', -2500],
    [booleanField(), 'True', true],
    [booleanField(), '"false"', false],
    [
      enumField(['regular', 'randomized'], { ignoreCase: true, aliases: { stable: 'regular' } }),
      'STABLE',
      'regular',
    ],
    [listField(['msd', 'ssd']), '["msd","ssd"]', ['msd', 'ssd']],
    [listField(['msd', 'ssd']), "['ssd', 'msd', 'ssd']", ['ssd', 'msd']],
    [listField(['msd', 'ssd']), 'msd', ['msd']],
  ] as const)('%#: %j', (parse, raw, value) => {
    expect((parse as (key: string, raw: string) => unknown)('x', raw)).toEqual(value);
  });

  test.each([
    [integerField({ min: 1 }), '2.5', "x must be an integer >= 1 (got '2.5')"],
    [integerField({ min: 1, auto: 'auto' as const }), '0', "x must be an integer >= 1 or 'auto' (got '0')"],
    [floatField({ min: 0, max: 1 }), '2', "x must be a number in [0, 1] (got '2')"],
    [floatField({ min: 0 }), 'NaN', "x must be a number >= 0 (got 'NaN')"],
    [booleanField(), 'yes', "x must be true or false (got 'yes')"],
    [enumField(['a', 'b']), 'c', "x must be one of a, b (got 'c')"],
    [listField(['msd', 'ssd']), '[]', "x must list at least one of msd, ssd (got '[]')"],
    [listField(['msd', 'ssd']), 'msd,mse', "x may only contain msd and ssd (got 'mse' in 'msd,mse')"],
  ] as const)('%#: refuses %j with a message naming key and value once', (parse, raw, message) => {
    expect(() => (parse as (key: string, raw: string) => unknown)('x', raw)).toThrow(message);
  });
});

describe('hyperparameterSchema', () => {
  const schema = hyperparameterSchema<{ k: number; flag: boolean }>({
    fields: { k: { parse: integerField({ min: 1 }) }, flag: { parse: booleanField(), default: 'false' } },
  });

  test('applies defaults and ignores platform keys', () => {
    expect(schema.parse({ k: '2', _tuning_objective_metric: 'x', sagemaker_region: 'y' })).toEqual({
      k: 2,
      flag: false,
    });
  });

  test('reports every broken key once, without a path, in field order', () => {
    const result = schema.safeParse({ flag: 'maybe' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [[], 'Missing required hyperparameter: k'],
      [[], "flag must be true or false (got 'maybe')"],
    ]);
  });

  test('unknown keys are refused before anything else is checked', () => {
    expect(schema.safeParse({ kk: '1', k: '0' }).error?.issues.map((issue) => issue.message)).toEqual([
      "Additional properties are not allowed ('kk' was unexpected)",
    ]);
  });
});
