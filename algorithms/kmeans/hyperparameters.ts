import {
  booleanField,
  enumField,
  floatField,
  type HyperparameterFields,
  hyperparameterSchema,
  integerField,
  listField,
} from '../../src/contract/hyperparameter-fields.js';

/** The metrics the `test` channel can be scored with. */
export type KMeansEvalMetric = 'msd' | 'ssd';

/** K-means hyperparameters after validation, under SageMaker's names, `auto` values resolved. */
export interface KMeansHyperparameters {
  readonly feature_dim: number;
  readonly k: number;
  readonly mini_batch_size: number;
  readonly epochs: number;
  readonly init_method: 'random' | 'kmeans++';
  /** `auto` evaluates to 10, as SageMaker logs ("'extra_center_factor' was set to 'auto', evaluated to 10."). */
  readonly extra_center_factor: number;
  readonly local_lloyd_max_iter: number;
  readonly local_lloyd_tol: number;
  readonly local_lloyd_init_method: 'random' | 'kmeans++';
  /** `auto`: at least 10 (what SageMaker logs), more when the reduction is cheap (see `localLloydTrials`). */
  readonly local_lloyd_num_trials: number | 'auto';
  readonly half_life_time_size: number;
  readonly eval_metrics: readonly KMeansEvalMetric[];
  readonly force_dense: boolean;
}

const AUTO_EXTRA_CENTER_FACTOR = 10;

const FIELDS: HyperparameterFields<KMeansHyperparameters> = {
  feature_dim: { parse: integerField({ min: 1 }) },
  k: { parse: integerField({ min: 1 }) },
  mini_batch_size: { parse: integerField({ min: 1 }), default: '5000' },
  epochs: { parse: integerField({ min: 1 }), default: '1' },
  init_method: { parse: enumField(['random', 'kmeans++'] as const), default: 'random' },
  extra_center_factor: {
    parse: integerField({ min: 1, auto: AUTO_EXTRA_CENTER_FACTOR }),
    default: 'auto',
  },
  local_lloyd_max_iter: { parse: integerField({ min: 1 }), default: '300' },
  local_lloyd_tol: { parse: floatField({ min: 0, max: 1 }), default: '0.0001' },
  local_lloyd_init_method: { parse: enumField(['random', 'kmeans++'] as const), default: 'kmeans++' },
  local_lloyd_num_trials: { parse: integerField({ min: 1, auto: 'auto' as const }), default: 'auto' },
  half_life_time_size: { parse: integerField({ min: 0 }), default: '0' },
  eval_metrics: { parse: listField(['msd', 'ssd'] as const), default: '["msd"]' },
  force_dense: { parse: booleanField(), default: 'true' },
};

/** The k-means hyperparameter names, in SageMaker's documentation order. */
export const KMEANS_HYPERPARAMETER_NAMES = Object.keys(FIELDS) as (keyof KMeansHyperparameters)[];

/**
 * Validates k-means hyperparameters given as strings (hyperparameters.json), exactly as SageMaker's
 * built-in image does: required keys, defaults, `auto`, unknown keys rejected; platform keys
 * (`_*`, `sagemaker_*`) ignored. Use it before submitting a job to fail early.
 * @example KMeansHyperparametersSchema.parse({ feature_dim: '4', k: '3' }).extra_center_factor === 10
 */
export const KMeansHyperparametersSchema = hyperparameterSchema({ fields: FIELDS });

/**
 * Validates hyperparameters and returns either the parsed values or one message listing every problem.
 * @example parseKMeansHyperparameters({ k: '0' }) -> { ok: false, message: 'Missing required ...; k must be ...' }
 */
export function parseKMeansHyperparameters(
  raw: Readonly<Record<string, string>>,
): { ok: true; value: KMeansHyperparameters } | { ok: false; message: string } {
  const result = KMeansHyperparametersSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: result.error.issues.map((issue) => issue.message).join('; ') };
}
