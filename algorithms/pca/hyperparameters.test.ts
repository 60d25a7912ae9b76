import { describe, expect, test } from 'vitest';
import { PcaHyperparametersSchema } from './hyperparameters.js';

const REQUIRED = { feature_dim: '50', mini_batch_size: '500', num_components: '10' };

function messages(raw: Record<string, string>): string[] {
  const parsed = PcaHyperparametersSchema.safeParse(raw);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
}

describe('PCA hyperparameters', () => {
  test('defaults as SageMaker documents them', () => {
    expect(PcaHyperparametersSchema.parse(REQUIRED)).toEqual({
      feature_dim: 50,
      mini_batch_size: 500,
      num_components: 10,
      algorithm_mode: 'regular',
      subtract_mean: true,
      extra_components: 10,
    });
  });

  test.each([
    [{ algorithm_mode: 'randomized' }, { algorithm_mode: 'randomized' }],
    [{ algorithm_mode: 'stable' }, { algorithm_mode: 'regular' }],
    [{ subtract_mean: 'False' }, { subtract_mean: false }],
    [{ subtract_mean: 'false' }, { subtract_mean: false }],
    [{ subtract_mean: 'True' }, { subtract_mean: true }],
    [{ extra_components: '-1', num_components: '25' }, { extra_components: 25 }],
    [{ extra_components: '-1', num_components: '3' }, { extra_components: 10 }],
    [{ extra_components: '0' }, { extra_components: 0 }],
    [{ extra_components: '"7"' }, { extra_components: 7 }],
  ])('%j', (extra, expected) => {
    expect(PcaHyperparametersSchema.parse({ ...REQUIRED, ...extra })).toMatchObject(expected);
  });

  test('platform keys and force_dense are accepted and ignored', () => {
    expect(
      PcaHyperparametersSchema.parse({
        ...REQUIRED,
        force_dense: 'True',
        _kvstore: 'dist_sync',
        _num_gpus: 'auto',
        sagemaker_region: '"us-east-1"',
        smkit_algorithm: 'pca',
      }).num_components,
    ).toBe(10);
  });

  test.each([
    [
      { ...REQUIRED, num_component: '3' },
      "Additional properties are not allowed ('num_component' was unexpected)",
    ],
    [
      { feature_dim: '5', num_components: '2' },
      "missing required hyperparameter 'mini_batch_size' (an integer >= 1)",
    ],
    [{ ...REQUIRED, feature_dim: '0' }, "feature_dim must be an integer >= 1 (got '0')"],
    [{ ...REQUIRED, mini_batch_size: '1.5' }, "mini_batch_size must be an integer >= 1 (got '1.5')"],
    [{ ...REQUIRED, num_components: 'ten' }, "num_components must be an integer >= 1 (got 'ten')"],
    [{ ...REQUIRED, algorithm_mode: 'fast' }, "algorithm_mode must be regular or randomized (got 'fast')"],
    [{ ...REQUIRED, subtract_mean: 'yes' }, "subtract_mean must be true or false (got 'yes')"],
    [
      { ...REQUIRED, extra_components: '-2' },
      "extra_components must be an integer >= 0, or -1 for max(10, num_components) (got '-2')",
    ],
    [
      { ...REQUIRED, num_components: '51' },
      "num_components must be <= feature_dim (got num_components '51' with feature_dim '50')",
    ],
  ])('%j is refused', (raw, message) => {
    expect(messages(raw)).toContainEqual(expect.stringContaining(message));
  });
});
