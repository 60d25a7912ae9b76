/**
 * One set of parsers for the hyperparameters of built-in algorithms, as SageMaker's SDKs spell them
 * (`3`, `"3"`, `True`, `true`, `["msd","ssd"]`, `['msd', 'ssd']`, `msd,ssd`), and the schema that
 * combines them. Every message names the key and the value it got, once.
 */
import { z } from 'zod';
import { decodeHyperparameter, hyperparameterText, isPlatformHyperparameter } from './hyperparameters.js';

/** Thrown by a field parser; its message names the key and the value and is shown as it is. */
export class HyperparameterError extends Error {
  override readonly name: string = 'HyperparameterError';
}

/**
 * Parses one hyperparameter's text into its value, or throws a {@link HyperparameterError} that says
 * what is allowed (`k must be an integer >= 1 (got '0')`).
 */
export type FieldParser<T> = (key: string, raw: string) => T;

/** Strips JSON string quotes (`"3"` as some clients send it) and surrounding blanks. */
export function plainHyperparameterText(raw: string): string {
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

/** Options of {@link integerField}. */
export interface IntegerFieldOptions {
  readonly min: number;
  /** The rule as the message states it; default `>= min`. */
  readonly rule?: string;
}

/**
 * A whole number >= `min`; with `auto`, the text `auto` yields that value.
 * @example integerField({ min: 1 })('k', '0') // throws "k must be an integer >= 1 (got '0')"
 */
export function integerField(options: IntegerFieldOptions): FieldParser<number>;
export function integerField<A extends number | 'auto'>(
  options: IntegerFieldOptions & { readonly auto: A },
): FieldParser<number | A>;
export function integerField(
  options: IntegerFieldOptions & { readonly auto?: number | 'auto' },
): FieldParser<number | 'auto'> {
  return (key, raw) => {
    const text = plainHyperparameterText(raw);
    if (options.auto !== undefined && text === 'auto') return options.auto;
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < options.min) {
      const auto = options.auto !== undefined ? " or 'auto'" : '';
      throw new HyperparameterError(
        `${key} must be an integer ${options.rule ?? `>= ${options.min}`}${auto} (got '${raw}')`,
      );
    }
    return value;
  };
}

/**
 * A finite number, within [`min`, `max`] when given.
 * @example floatField({ min: 0, max: 1 })('tol', '2') // throws "tol must be a number in [0, 1] (got '2')"
 */
export function floatField(
  options: { readonly min?: number; readonly max?: number } = {},
): FieldParser<number> {
  const { min, max } = options;
  const rule =
    min !== undefined && max !== undefined
      ? ` in [${min}, ${max}]`
      : min !== undefined
        ? ` >= ${min}`
        : max !== undefined
          ? ` <= ${max}`
          : '';
  return (key, raw) => {
    const text = plainHyperparameterText(raw);
    const value = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
      throw new HyperparameterError(`${key} must be a number${rule} (got '${raw}')`);
    }
    return value;
  };
}

/** `true` or `false` in any case (Python's `True`, JSON's `true`, quoted or not). */
export function booleanField(): FieldParser<boolean> {
  return (key, raw) => {
    const text = plainHyperparameterText(raw).toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw new HyperparameterError(`${key} must be true or false (got '${raw}')`);
  };
}

/** Options of {@link enumField}. */
export interface EnumFieldOptions<T extends string> {
  /** Other spellings and what they mean (PCA's `stable` is `regular`). */
  readonly aliases?: Readonly<Record<string, T>>;
  /** Compare in lower case. */
  readonly ignoreCase?: boolean;
  /** What the message says is allowed; default `one of a, b`. */
  readonly expected?: string;
}

/**
 * One of `values`.
 * @example enumField(['random', 'kmeans++'])('init_method', 'x') // throws "init_method must be one of random, kmeans++ (got 'x')"
 */
export function enumField<T extends string>(
  values: readonly T[],
  options: EnumFieldOptions<T> = {},
): FieldParser<T> {
  const expected = options.expected ?? `one of ${values.join(', ')}`;
  return (key, raw) => {
    const plain = plainHyperparameterText(raw);
    const text = options.ignoreCase ? plain.toLowerCase() : plain;
    if ((values as readonly string[]).includes(text)) return text as T;
    const alias = options.aliases && Object.hasOwn(options.aliases, text) ? options.aliases[text] : undefined;
    if (alias !== undefined) return alias;
    throw new HyperparameterError(`${key} must be ${expected} (got '${raw}')`);
  };
}

function listOfNames(values: readonly string[]): string {
  return values.length > 1 ? `${values.slice(0, -1).join(', ')} and ${values.at(-1)}` : (values[0] ?? '');
}

/**
 * A non-empty list of `values`, without repeats: JSON `["msd","ssd"]`, Python's `['msd', 'ssd']` or
 * bare `msd,ssd`.
 */
export function listField<T extends string>(values: readonly T[]): FieldParser<T[]> {
  return (key, raw) => {
    const text = plainHyperparameterText(raw);
    const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    const names = inner
      .split(',')
      .map((name) => name.trim().replace(/^["']|["']$/g, ''))
      .filter((name) => name !== '');
    if (names.length === 0) {
      throw new HyperparameterError(`${key} must list at least one of ${values.join(', ')} (got '${raw}')`);
    }
    for (const name of names) {
      if (!(values as readonly string[]).includes(name)) {
        throw new HyperparameterError(
          `${key} may only contain ${listOfNames(values)} (got '${name}' in '${raw}')`,
        );
      }
    }
    return [...new Set(names as T[])];
  };
}

/** One hyperparameter of a schema: its parser and its default (as text); no default means required. */
export interface HyperparameterField<T> {
  readonly parse: FieldParser<T>;
  readonly default?: string;
}

/** The fields of a hyperparameter type, by name, in the order they are checked and reported. */
export type HyperparameterFields<H> = { readonly [K in keyof H]: HyperparameterField<H[K]> };

/** Options of {@link hyperparameterSchema}. */
export interface HyperparameterSchemaOptions<H> {
  readonly fields: HyperparameterFields<H>;
  /** Keys accepted and dropped (default: the platform's `_*` and `sagemaker_*`). */
  readonly ignore?: (key: string) => boolean;
  /**
   * How a value's text is read before its parser sees it: `unquote` (default) strips JSON string quotes;
   * `json` decodes the value as the reference toolkit does (`3.0` -> `3`, `True` -> `true`).
   */
  readonly decode?: 'unquote' | 'json';
  /** The messages for unknown keys; default one message listing them all. */
  readonly unknown?: (keys: readonly string[]) => readonly string[];
  /** The message for a missing required key; default `Missing required hyperparameter: KEY`. */
  readonly missing?: (key: string) => string;
  /** Cross-field checks and resolved defaults, once every field parsed; `issue` reports a problem. */
  readonly finish?: (values: H, issue: (message: string) => void) => H;
}

function unknownKeysMessage(keys: readonly string[]): string[] {
  return [
    `Additional properties are not allowed (${keys.map((key) => `'${key}'`).join(', ')} ${
      keys.length === 1 ? 'was' : 'were'
    } unexpected)`,
  ];
}

/**
 * A zod schema for hyperparameters given as strings (hyperparameters.json), as SageMaker's built-in
 * images check them: unknown keys rejected (nothing else is checked then), required keys and defaults,
 * every broken key reported in field order. Issues carry no path: each message already names its key
 * and value, and callers print it as it is.
 * @example hyperparameterSchema({ fields: { k: { parse: integerField({ min: 1 }) } } }).parse({ k: '3' }) // { k: 3 }
 */
export function hyperparameterSchema<H>(
  options: HyperparameterSchemaOptions<H>,
): z.ZodType<H, Record<string, string>> {
  const names = Object.keys(options.fields) as (keyof H & string)[];
  const ignore = options.ignore ?? isPlatformHyperparameter;
  const read =
    options.decode === 'json'
      ? (raw: string) => hyperparameterText(decodeHyperparameter(raw)).trim()
      : (raw: string) => raw;
  return z.record(z.string(), z.string()).transform((raw, context) => {
    const issue = (message: string) => context.addIssue({ code: 'custom', message });
    const unexpected = Object.keys(raw).filter((key) => !(names as string[]).includes(key) && !ignore(key));
    if (unexpected.length) {
      for (const message of (options.unknown ?? unknownKeysMessage)(unexpected)) issue(message);
      return z.NEVER;
    }
    const values: Record<string, unknown> = {};
    let failed = false;
    for (const name of names) {
      const field: HyperparameterField<unknown> = options.fields[name];
      const given = Object.hasOwn(raw, name) ? raw[name] : undefined;
      const text = given === undefined ? field.default : read(given);
      if (text === undefined) {
        issue(options.missing ? options.missing(name) : `Missing required hyperparameter: ${name}`);
        failed = true;
        continue;
      }
      try {
        values[name] = field.parse(name, text);
      } catch (error) {
        if (!(error instanceof HyperparameterError)) throw error;
        issue(error.message);
        failed = true;
      }
    }
    if (failed) return z.NEVER;
    let problems = 0;
    const finished = options.finish
      ? options.finish(values as H, (message) => {
          problems++;
          issue(message);
        })
      : (values as H);
    return problems ? z.NEVER : finished;
  });
}
