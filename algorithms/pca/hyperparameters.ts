import {
  booleanField,
  enumField,
  type HyperparameterFields,
  hyperparameterSchema,
  integerField,
} from '../../src/contract/hyperparameter-fields.js';
import { isPlatformHyperparameter, isSmkitHyperparameter } from '../../src/contract/hyperparameters.js';

/** PCA's hyperparameters after validation, with `auto`/-1 defaults resolved. */
export interface PcaHyperparameters {
  readonly feature_dim: number;
  readonly mini_batch_size: number;
  readonly num_components: number;
  readonly algorithm_mode: 'regular' | 'randomized';
  readonly subtract_mean: boolean;
  /** Resolved: -1 becomes max(10, num_components). Used in randomized mode only. */
  readonly extra_components: number;
}

/** Keys that SageMaker's SDKs send but PCA ignores. */
function isIgnored(key: string): boolean {
  return isPlatformHyperparameter(key) || isSmkitHyperparameter(key) || key === 'force_dense';
}

const FIELDS: HyperparameterFields<PcaHyperparameters> = {
  feature_dim: { parse: integerField({ min: 1 }) },
  mini_batch_size: { parse: integerField({ min: 1 }) },
  num_components: { parse: integerField({ min: 1 }) },
  algorithm_mode: {
    parse: enumField(['regular', 'randomized'] as const, {
      aliases: { stable: 'regular' },
      ignoreCase: true,
      expected: 'regular or randomized',
    }),
    default: 'regular',
  },
  subtract_mean: { parse: booleanField(), default: 'true' },
  extra_components: {
    parse: integerField({ min: -1, rule: '>= 0, or -1 for max(10, num_components)' }),
    default: '-1',
  },
};

const KNOWN = Object.keys(FIELDS);

/**
 * PCA hyperparameters as SageMaker's built-in PCA takes them (all strings): names, defaults and
 * messages that name the key and the value. Unknown keys are rejected; `_*`, `sagemaker_*`,
 * `smkit_*` and `force_dense` are accepted and ignored.
 * @example PcaHyperparametersSchema.parse({ feature_dim: '4', mini_batch_size: '100', num_components: '2' })
 */
export const PcaHyperparametersSchema = hyperparameterSchema({
  fields: FIELDS,
  ignore: isIgnored,
  decode: 'json',
  unknown: (keys) =>
    keys.map(
      (key) =>
        `Additional properties are not allowed ('${key}' was unexpected); PCA takes ${KNOWN.join(', ')}`,
    ),
  missing: (key) => `missing required hyperparameter '${key}' (an integer >= 1)`,
  finish(values, issue) {
    if (values.num_components > values.feature_dim) {
      issue(
        `num_components must be <= feature_dim (got num_components '${values.num_components}' with feature_dim '${values.feature_dim}')`,
      );
    }
    const extra = values.extra_components;
    return { ...values, extra_components: extra === -1 ? Math.max(10, values.num_components) : extra };
  },
});
