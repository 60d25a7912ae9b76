import { z } from 'zod';
import { isPlatformHyperparameter } from '../../src/contract/hyperparameters.js';

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
  /** `auto` evaluates to 10 (SageMaker logs ten local attempts). */
  readonly local_lloyd_num_trials: number;
  readonly half_life_time_size: number;
  readonly eval_metrics: readonly KMeansEvalMetric[];
  readonly force_dense: boolean;
}

const AUTO_EXTRA_CENTER_FACTOR = 10;
const AUTO_LOCAL_LLOYD_NUM_TRIALS = 10;

type Parse<T> = (key: string, raw: string) => T;

/** Strips JSON string quotes (`"3"` as some clients send it) so every value is read as plain text. */
function plain(raw: string): string {
  const text = raw.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'string') return parsed.trim();
    } catch {
      // not a JSON string: keep the text as it is
    }
  }
  return text;
}

class HyperparameterError extends Error {}

function integer(min: number, options: { auto?: number } = {}): Parse<number> {
  return (key, raw) => {
    const text = plain(raw);
    if (options.auto !== undefined && text === 'auto') return options.auto;
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) {
      const auto = options.auto !== undefined ? " or 'auto'" : '';
      throw new HyperparameterError(`${key} must be an integer >= ${min}${auto} (got '${raw}')`);
    }
    return value;
  };
}

function fraction(): Parse<number> {
  return (key, raw) => {
    const text = plain(raw);
    const value = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new HyperparameterError(`${key} must be a number in [0, 1] (got '${raw}')`);
    }
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (key, raw) => {
    const text = plain(raw);
    if (!(values as readonly string[]).includes(text)) {
      throw new HyperparameterError(`${key} must be one of ${values.join(', ')} (got '${raw}')`);
    }
    return text as T;
  };
}

const boolean: Parse<boolean> = (key, raw) => {
  const text = plain(raw).toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new HyperparameterError(`${key} must be true or false (got '${raw}')`);
};

/** `["msd","ssd"]`, Python's `['msd', 'ssd']`, or bare `msd,ssd`. */
const evalMetrics: Parse<KMeansEvalMetric[]> = (key, raw) => {
  const text = plain(raw);
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const names = inner
    .split(',')
    .map((name) => name.trim().replace(/^["']|["']$/g, ''))
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new HyperparameterError(`${key} must list at least one of msd, ssd (got '${raw}')`);
  }
  for (const name of names) {
    if (name !== 'msd' && name !== 'ssd') {
      throw new HyperparameterError(`${key} may only contain msd and ssd (got '${name}' in '${raw}')`);
    }
  }
  return [...new Set(names as KMeansEvalMetric[])];
};

interface Field<T> {
  readonly parse: Parse<T>;
  /** Raw default; absent for required keys. */
  readonly default?: string;
}

const FIELDS: { readonly [K in keyof KMeansHyperparameters]: Field<KMeansHyperparameters[K]> } = {
  feature_dim: { parse: integer(1) },
  k: { parse: integer(1) },
  mini_batch_size: { parse: integer(1), default: '5000' },
  epochs: { parse: integer(1), default: '1' },
  init_method: { parse: oneOf(['random', 'kmeans++'] as const), default: 'random' },
  extra_center_factor: { parse: integer(1, { auto: AUTO_EXTRA_CENTER_FACTOR }), default: 'auto' },
  local_lloyd_max_iter: { parse: integer(1), default: '300' },
  local_lloyd_tol: { parse: fraction(), default: '0.0001' },
  local_lloyd_init_method: { parse: oneOf(['random', 'kmeans++'] as const), default: 'kmeans++' },
  local_lloyd_num_trials: { parse: integer(1, { auto: AUTO_LOCAL_LLOYD_NUM_TRIALS }), default: 'auto' },
  half_life_time_size: { parse: integer(0), default: '0' },
  eval_metrics: { parse: evalMetrics, default: '["msd"]' },
  force_dense: { parse: boolean, default: 'true' },
};

/** The k-means hyperparameter names, in SageMaker's documentation order. */
export const KMEANS_HYPERPARAMETER_NAMES = Object.keys(FIELDS) as (keyof KMeansHyperparameters)[];

/**
 * Validates k-means hyperparameters given as strings (hyperparameters.json), exactly as SageMaker's
 * built-in image does: required keys, defaults, `auto`, unknown keys rejected; platform keys
 * (`_*`, `sagemaker_*`) ignored. Use it before submitting a job to fail early.
 * @example KMeansHyperparametersSchema.parse({ feature_dim: '4', k: '3' }).extra_center_factor === 10
 */
export const KMeansHyperparametersSchema: z.ZodType<KMeansHyperparameters, Record<string, string>> = z
  .record(z.string(), z.string())
  .transform((raw, context) => {
    const unexpected = Object.keys(raw).filter((key) => !(key in FIELDS) && !isPlatformHyperparameter(key));
    if (unexpected.length) {
      context.addIssue({
        code: 'custom',
        message: `Additional properties are not allowed (${unexpected.map((key) => `'${key}'`).join(', ')} ${
          unexpected.length === 1 ? 'was' : 'were'
        } unexpected)`,
      });
      return z.NEVER;
    }
    const values: Record<string, unknown> = {};
    let failed = false;
    for (const name of KMEANS_HYPERPARAMETER_NAMES) {
      const field: Field<unknown> = FIELDS[name];
      const given = Object.hasOwn(raw, name) ? raw[name] : undefined;
      const text = given ?? field.default;
      if (text === undefined) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `Missing required hyperparameter: ${name}`,
        });
        failed = true;
        continue;
      }
      try {
        values[name] = field.parse(name, text);
      } catch (error) {
        if (!(error instanceof HyperparameterError)) throw error;
        context.addIssue({ code: 'custom', path: [name], message: error.message });
        failed = true;
      }
    }
    return failed ? z.NEVER : (values as unknown as KMeansHyperparameters);
  });

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
