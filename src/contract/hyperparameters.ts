/** A decoded hyperparameter value: what the reference toolkit yields after JSON-parsing each string. */
export type HyperparameterValue =
  | string
  | number
  | boolean
  | null
  | HyperparameterValue[]
  | { [key: string]: HyperparameterValue };

/**
 * Decodes one hyperparameter string the way real clients encode it.
 * JSON values (`"\"abc\""`, `3`, `["msd","ssd"]`) are parsed; Python's `True`/`False` become booleans;
 * anything else stays the raw string.
 * @example decodeHyperparameter('"train.js"') === 'train.js'; decodeHyperparameter('True') === true
 */
export function decodeHyperparameter(raw: string): HyperparameterValue {
  if (raw === 'True') return true;
  if (raw === 'False') return false;
  if (raw === 'None') return null;
  try {
    return JSON.parse(raw) as HyperparameterValue;
  } catch {
    return raw;
  }
}

/** Decodes every value of hyperparameters.json. */
export function decodeHyperparameters(
  raw: Readonly<Record<string, string>>,
): Record<string, HyperparameterValue> {
  const decoded: Record<string, HyperparameterValue> = {};
  for (const [key, value] of Object.entries(raw)) decoded[key] = decodeHyperparameter(value);
  return decoded;
}

/**
 * The plain-text form of a decoded value, as an algorithm reads it: strings stay as they are,
 * everything else is compact JSON (`true`, `3`, `["msd"]`).
 */
export function hyperparameterText(value: HyperparameterValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Keys the platform and the SDKs add that are not the user's: `_*` and `sagemaker_*`. */
export function isPlatformHyperparameter(key: string): boolean {
  return key.startsWith('_') || key.startsWith('sagemaker_');
}

/** Keys that belong to smkit itself (`smkit_algorithm`, ...), never passed to an algorithm. */
export function isSmkitHyperparameter(key: string): boolean {
  return key.startsWith('smkit_');
}
