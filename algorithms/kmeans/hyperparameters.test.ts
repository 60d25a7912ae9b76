import { describe, expect, test } from 'vitest';
import { KMeansHyperparametersSchema, parseKMeansHyperparameters } from './hyperparameters.js';

function messageOf(raw: Record<string, string>): string {
  const result = parseKMeansHyperparameters(raw);
  if (result.ok) throw new Error('expected a failure');
  return result.message;
}

describe('k-means hyperparameters', () => {
  test('defaults as SageMaker documents them, auto values resolved', () => {
    expect(KMeansHyperparametersSchema.parse({ feature_dim: '4', k: '3' })).toEqual({
      feature_dim: 4,
      k: 3,
      mini_batch_size: 5000,
      epochs: 1,
      init_method: 'random',
      extra_center_factor: 10,
      local_lloyd_max_iter: 300,
      local_lloyd_tol: 0.0001,
      local_lloyd_init_method: 'kmeans++',
      local_lloyd_num_trials: 10,
      half_life_time_size: 0,
      eval_metrics: ['msd'],
      force_dense: true,
    });
  });

  test('the full set the Python SDK sends, with platform keys', () => {
    const parsed = KMeansHyperparametersSchema.parse({
      feature_dim: '7',
      k: '8',
      mini_batch_size: '500',
      epochs: '3',
      init_method: 'kmeans++',
      extra_center_factor: '4',
      local_lloyd_max_iter: '50',
      local_lloyd_tol: '0.01',
      local_lloyd_init_method: 'random',
      local_lloyd_num_trials: 'auto',
      half_life_time_size: '1000',
      eval_metrics: '["msd", "ssd"]',
      force_dense: 'True',
      _kvstore: 'auto',
      _num_gpus: 'auto',
      _tuning_objective_metric: '',
      sagemaker_region: 'us-east-1',
    });
    expect(parsed).toMatchObject({
      mini_batch_size: 500,
      epochs: 3,
      init_method: 'kmeans++',
      extra_center_factor: 4,
      local_lloyd_tol: 0.01,
      local_lloyd_init_method: 'random',
      local_lloyd_num_trials: 10,
      half_life_time_size: 1000,
      eval_metrics: ['msd', 'ssd'],
      force_dense: true,
    });
  });

  test.each([
    ['bare list', 'msd,ssd', ['msd', 'ssd']],
    ['Python list', "['ssd']", ['ssd']],
    ['JSON list', '["msd"]', ['msd']],
    ['single name', 'ssd', ['ssd']],
  ])('eval_metrics as %s', (_name, raw, expected) => {
    expect(
      KMeansHyperparametersSchema.parse({ feature_dim: '2', k: '2', eval_metrics: raw }).eval_metrics,
    ).toEqual(expected);
  });

  test.each([
    [
      { feature_dim: '4', k: '3', mini_batch_siz: '10' },
      "Additional properties are not allowed ('mini_batch_siz' was unexpected)",
    ],
    [{ feature_dim: '4' }, 'Missing required hyperparameter: k'],
    [{ feature_dim: '4', k: '0' }, "k must be an integer >= 1 (got '0')"],
    [{ feature_dim: 'four', k: '3' }, "feature_dim must be an integer >= 1 (got 'four')"],
    [{ feature_dim: '4', k: '2.5' }, "k must be an integer >= 1 (got '2.5')"],
    [
      { feature_dim: '4', k: '3', extra_center_factor: '0' },
      "extra_center_factor must be an integer >= 1 or 'auto' (got '0')",
    ],
    [
      { feature_dim: '4', k: '3', init_method: 'kmeans' },
      "init_method must be one of random, kmeans++ (got 'kmeans')",
    ],
    [
      { feature_dim: '4', k: '3', local_lloyd_tol: '2' },
      "local_lloyd_tol must be a number in [0, 1] (got '2')",
    ],
    [
      { feature_dim: '4', k: '3', half_life_time_size: '-1' },
      "half_life_time_size must be an integer >= 0 (got '-1')",
    ],
    [
      { feature_dim: '4', k: '3', eval_metrics: '["mse"]' },
      "eval_metrics may only contain msd and ssd (got 'mse' in '[\"mse\"]')",
    ],
    [{ feature_dim: '4', k: '3', force_dense: 'yes' }, "force_dense must be true or false (got 'yes')"],
  ])('rejects %o', (raw, message) => {
    expect(messageOf(raw)).toBe(message);
  });

  test('lists every bad value at once', () => {
    expect(messageOf({ k: '0', epochs: 'x' })).toBe(
      "Missing required hyperparameter: feature_dim; k must be an integer >= 1 (got '0'); epochs must be an integer >= 1 (got 'x')",
    );
  });
});
