import { z } from 'zod';
import {
  decodeHyperparameter,
  hyperparameterText,
  isPlatformHyperparameter,
  isSmkitHyperparameter,
} from '../../src/contract/hyperparameters.js';

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

const KNOWN = [
  'feature_dim',
  'mini_batch_size',
  'num_components',
  'algorithm_mode',
  'subtract_mean',
  'extra_components',
] as const;

/** Keys that SageMaker's SDKs send but PCA ignores. */
function isIgnored(key: string): boolean {
  return isPlatformHyperparameter(key) || isSmkitHyperparameter(key) || key === 'force_dense';
}

type Issue = (message: string, key: string) => void;

function integer(raw: string | undefined, key: string, min: number, issue: Issue, rule = `>= ${min}`) {
  if (raw === undefined) return undefined;
  const value = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    issue(`${key} must be an integer ${rule} (got '${raw}')`, key);
    return undefined;
  }
  return value;
}

/**
 * PCA hyperparameters as SageMaker's built-in PCA takes them (all strings): names, defaults and
 * messages that name the key and the value. Unknown keys are rejected; `_*`, `sagemaker_*`,
 * `smkit_*` and `force_dense` are accepted and ignored.
 * @example PcaHyperparametersSchema.parse({ feature_dim: '4', mini_batch_size: '100', num_components: '2' })
 */
export const PcaHyperparametersSchema: z.ZodType<PcaHyperparameters, Record<string, string>> = z
  .record(z.string(), z.string())
  .transform((input, ctx): PcaHyperparameters => {
    const issue: Issue = (message, key) => ctx.addIssue({ code: 'custom', message, path: [key] });
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(input)) {
      if (isIgnored(key)) continue;
      if (!(KNOWN as readonly string[]).includes(key)) {
        issue(
          `Additional properties are not allowed ('${key}' was unexpected); PCA takes ${KNOWN.join(', ')}`,
          key,
        );
        continue;
      }
      raw[key] = hyperparameterText(decodeHyperparameter(value)).trim();
    }
    for (const key of ['feature_dim', 'mini_batch_size', 'num_components'] as const) {
      if (raw[key] === undefined) issue(`missing required hyperparameter '${key}' (an integer >= 1)`, key);
    }
    const featureDim = integer(raw['feature_dim'], 'feature_dim', 1, issue);
    const miniBatchSize = integer(raw['mini_batch_size'], 'mini_batch_size', 1, issue);
    const numComponents = integer(raw['num_components'], 'num_components', 1, issue);

    let mode: PcaHyperparameters['algorithm_mode'] = 'regular';
    const modeText = raw['algorithm_mode'];
    if (modeText !== undefined) {
      const lower = modeText.toLowerCase();
      if (lower === 'regular' || lower === 'stable') mode = 'regular';
      else if (lower === 'randomized') mode = 'randomized';
      else issue(`algorithm_mode must be regular or randomized (got '${modeText}')`, 'algorithm_mode');
    }

    let subtractMean = true;
    const meanText = raw['subtract_mean'];
    if (meanText !== undefined) {
      if (/^true$/i.test(meanText)) subtractMean = true;
      else if (/^false$/i.test(meanText)) subtractMean = false;
      else issue(`subtract_mean must be true or false (got '${meanText}')`, 'subtract_mean');
    }

    let extra = integer(
      raw['extra_components'],
      'extra_components',
      -1,
      issue,
      '>= 0, or -1 for max(10, num_components)',
    );
    if (numComponents !== undefined && featureDim !== undefined && numComponents > featureDim) {
      issue(
        `num_components must be <= feature_dim (got num_components '${numComponents}' with feature_dim '${featureDim}')`,
        'num_components',
      );
    }
    if (
      featureDim === undefined ||
      miniBatchSize === undefined ||
      numComponents === undefined ||
      ctx.issues.length
    ) {
      return z.NEVER;
    }
    if (extra === undefined || extra === -1) extra = Math.max(10, numComponents);
    return {
      feature_dim: featureDim,
      mini_batch_size: miniBatchSize,
      num_components: numComponents,
      algorithm_mode: mode,
      subtract_mean: subtractMean,
      extra_components: extra,
    };
  });
