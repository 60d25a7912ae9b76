import { ChannelNameSchema } from '../contract/index.js';
import { InputError } from '../util/errors.js';

/** One `--channel NAME=DIR[,mode=Pipe,...]` as given on the command line. */
export interface ChannelSpec {
  readonly name: string;
  readonly dir: string;
  readonly mode: 'File' | 'Pipe' | 'FastFile';
  readonly contentType: string | undefined;
  readonly distribution: 'FullyReplicated' | 'ShardedByS3Key';
  readonly wrapper: 'None' | 'RecordIO';
  readonly compression: 'None' | 'Gzip';
}

/** A SageMaker MetricDefinition. */
export interface MetricDefinition {
  readonly Name: string;
  readonly Regex: string;
}

/**
 * Splits `a=1,b=[1,2],c="x,y"` on top-level commas: commas inside brackets, braces or quotes stay.
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '[' || char === '{') depth++;
    else if (char === ']' || char === '}') depth--;
    else if (char === separator && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** Parses `k=3,feature_dim=4` into raw strings (values as typed; encoding happens later). */
export function parseKeyValues(text: string, what: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of splitTopLevel(text, ',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InputError(`${what}: expected KEY=VALUE, got '${part}'`);
    result[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return result;
}

const MODES = { file: 'File', pipe: 'Pipe', fastfile: 'FastFile' } as const;
const DISTRIBUTIONS = { fullyreplicated: 'FullyReplicated', shardedbys3key: 'ShardedByS3Key' } as const;
const WRAPPERS = { none: 'None', recordio: 'RecordIO' } as const;
const COMPRESSIONS = { none: 'None', gzip: 'Gzip' } as const;

function pick<T>(table: Record<string, T>, value: string, key: string, spec: string): T {
  const found = table[value.toLowerCase()];
  if (found === undefined) {
    throw new InputError(
      `--channel ${spec}: ${key} must be one of ${Object.values(table).join(', ')} (got '${value}')`,
    );
  }
  return found;
}

/**
 * Parses `train=DIR[,mode=Pipe,content-type=text/csv,distribution=ShardedByS3Key,wrapper=RecordIO,compression=Gzip]`.
 * @example parseChannel('train=data/train,mode=Pipe').mode === 'Pipe'
 */
export function parseChannel(spec: string): ChannelSpec {
  const [first, ...rest] = splitTopLevel(spec, ',');
  const eq = first?.indexOf('=') ?? -1;
  if (!first || eq <= 0) throw new InputError(`--channel ${spec}: expected NAME=DIR[,mode=Pipe,...]`);
  const name = first.slice(0, eq);
  if (!ChannelNameSchema.safeParse(name).success) {
    throw new InputError(`--channel ${spec}: channel names match [A-Za-z0-9.-_]{1,64} (got '${name}')`);
  }
  const channel = {
    name,
    dir: first.slice(eq + 1),
    mode: 'File' as ChannelSpec['mode'],
    contentType: undefined as string | undefined,
    distribution: 'FullyReplicated' as ChannelSpec['distribution'],
    wrapper: 'None' as ChannelSpec['wrapper'],
    compression: 'None' as ChannelSpec['compression'],
  };
  for (const [key, value] of Object.entries(parseKeyValues(rest.join(','), `--channel ${spec}`))) {
    switch (key.toLowerCase()) {
      case 'mode':
        channel.mode = pick(MODES, value, key, spec);
        break;
      case 'content-type':
      case 'contenttype':
        channel.contentType = value;
        break;
      case 'distribution':
        channel.distribution = pick(DISTRIBUTIONS, value, key, spec);
        break;
      case 'wrapper':
        channel.wrapper = pick(WRAPPERS, value, key, spec);
        break;
      case 'compression':
        channel.compression = pick(COMPRESSIONS, value, key, spec);
        break;
      default:
        throw new InputError(
          `--channel ${spec}: unknown option '${key}' (use mode, content-type, distribution, wrapper, compression)`,
        );
    }
  }
  if (channel.compression === 'Gzip' && channel.mode !== 'Pipe') {
    throw new InputError(
      `--channel ${spec}: compression=Gzip works only with mode=Pipe, as on SageMaker; decompress the files or add mode=Pipe`,
    );
  }
  return channel;
}

/**
 * Parses `loss=loss: (\S+);acc=acc=(\S+)`. A `;` belongs to the regex unless the text after it starts
 * a new `name=`.
 */
export function parseMetricDefinitions(text: string): MetricDefinition[] {
  const definitions: MetricDefinition[] = [];
  for (const piece of text.split(';')) {
    const match = /^\s*([A-Za-z0-9_:.\-/]+)=(.*)$/s.exec(piece);
    const last = definitions.at(-1);
    if (match) definitions.push({ Name: match[1]!, Regex: match[2]! });
    else if (last) definitions[definitions.length - 1] = { ...last, Regex: `${last.Regex};${piece}` };
    else if (piece.trim() !== '')
      throw new InputError(`--metric-definitions: expected NAME=REGEX, got '${piece}'`);
  }
  for (const definition of definitions) {
    try {
      new RegExp(definition.Regex);
    } catch (error) {
      throw new InputError(
        `--metric-definitions: the regex of '${definition.Name}' is invalid: ${(error as Error).message}`,
      );
    }
  }
  return definitions;
}
