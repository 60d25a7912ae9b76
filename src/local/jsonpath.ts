import { InputError } from '../util/errors.js';

type Step =
  | { kind: 'key'; key: string }
  | { kind: 'indexes'; indexes: number[] }
  | { kind: 'slice'; start: number | undefined; end: number | undefined }
  | { kind: 'all' };

/** A compiled InputFilter / OutputFilter (the JSONPath subset batch transform supports). */
export interface RecordFilter {
  readonly expression: string;
  /** Applies to the fields of one CSV record; only index forms (`$[1:]`, `$[0,2]`, `$[-1]`) work on CSV. */
  csv(fields: readonly string[]): string[];
  /** Applies to one JSON value. */
  json(value: unknown): unknown;
}

function fail(expression: string, why: string): never {
  throw new InputError(`filter '${expression}': ${why}`);
}

function parseBracket(expression: string, inner: string): Step {
  const text = inner.trim();
  if (text === '*') return { kind: 'all' };
  const quoted = /^(['"])(.*)\1$/.exec(text);
  if (quoted) return { kind: 'key', key: quoted[2]! };
  const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(text);
  if (slice) {
    return {
      kind: 'slice',
      start: slice[1] === undefined ? undefined : Number(slice[1]),
      end: slice[2] === undefined ? undefined : Number(slice[2]),
    };
  }
  const indexes = text.split(',').map((part) => part.trim());
  if (indexes.every((part) => /^-?\d+$/.test(part))) return { kind: 'indexes', indexes: indexes.map(Number) };
  return fail(expression, `unsupported selector [${inner}]; use [N], [N,M], [N:M], [*] or ['key']`);
}

/**
 * Compiles a JSONPath expression of the subset SageMaker's DataProcessing accepts: `$`, `$.a.b`, `$['a']`,
 * `$[1]`, `$[-1]`, `$[0,2]`, `$[1:]`, `$[:3]`, `$[*]` and combinations such as `$.features[1:]`.
 * @example compileFilter('$[1:]').csv(['label', '1', '2']) -> ['1', '2']
 */
export function compileFilter(expression: string): RecordFilter {
  const text = expression.trim();
  if (!text.startsWith('$')) fail(expression, "a filter starts with '$'");
  const steps: Step[] = [];
  let rest = text.slice(1);
  while (rest.length) {
    const key = /^\.([A-Za-z_$][\w$-]*)/.exec(rest);
    if (key) {
      steps.push({ kind: 'key', key: key[1]! });
      rest = rest.slice(key[0].length);
      continue;
    }
    if (rest.startsWith('.*')) {
      steps.push({ kind: 'all' });
      rest = rest.slice(2);
      continue;
    }
    const bracket = /^\[([^\]]*)\]/.exec(rest);
    if (!bracket) fail(expression, `cannot read '${rest}'`);
    steps.push(parseBracket(expression, bracket[1]!));
    rest = rest.slice(bracket[0].length);
  }
  const pick = <T>(items: readonly T[], step: Step): T[] => {
    const at = (i: number) => (i < 0 ? items.length + i : i);
    if (step.kind === 'all') return [...items];
    if (step.kind === 'indexes') {
      return step.indexes.map((i) => {
        const item = items[at(i)];
        if (item === undefined) fail(expression, `index ${i} is out of range for ${items.length} fields`);
        return item;
      });
    }
    if (step.kind === 'slice') {
      return items.slice(
        step.start === undefined ? 0 : step.start,
        step.end === undefined ? undefined : step.end,
      );
    }
    return fail(expression, 'key selectors apply to JSON, not CSV');
  };
  const jsonStep = (value: unknown, step: Step): unknown => {
    if (step.kind === 'key') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail(expression, `'${step.key}' needs a JSON object`);
      }
      return (value as Record<string, unknown>)[step.key];
    }
    const items = Array.isArray(value)
      ? value
      : step.kind === 'all' && value && typeof value === 'object'
        ? Object.values(value)
        : fail(expression, 'index selectors need a JSON array');
    const picked = pick(items, step);
    return step.kind === 'indexes' && step.indexes.length === 1 ? picked[0] : picked;
  };
  return {
    expression,
    csv(fields) {
      if (steps.length === 0) return [...fields];
      const [step] = steps;
      if (steps.length > 1 || step?.kind === 'key') {
        fail(expression, 'CSV records take only index forms such as $[1:], $[0,2] or $[-1]');
      }
      return pick(fields, step!);
    },
    json(value) {
      let current = value;
      let multi = false;
      for (const step of steps) {
        const spreads = step.kind !== 'key' && !(step.kind === 'indexes' && step.indexes.length === 1);
        current = multi
          ? (current as unknown[]).map((item) => jsonStep(item, step))
          : jsonStep(current, step);
        multi ||= spreads;
      }
      return current;
    },
  };
}

/** Splits one CSV record into raw fields (quotes kept as written), respecting quoted commas. */
export function splitCsvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  fields.push(current);
  return fields;
}
