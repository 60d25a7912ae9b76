import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { algorithmNames, builtinAlgorithms } from '../../algorithms/index.js';
import {
  type ChannelSpec,
  ChannelSpecSchema,
  CompressionTypeSchema,
  type MetricDefinition,
  MetricDefinitionSchema,
  RecordWrapperTypeSchema,
  S3DistributionTypeSchema,
  STOP_GRACE_SECONDS,
  TrainingInputModeSchema,
} from '../contract/job-spec.js';
import {
  type AssembleWith,
  AssembleWithSchema,
  type BatchStrategy,
  BatchStrategySchema,
  type DataProcessing,
  DataProcessingSchema,
  type JoinSource,
  JoinSourceSchema,
  type SplitType,
  SplitTypeSchema,
} from '../contract/transform.js';
import type { RawHyperparameters } from '../contract/hyperparameter-encoding.js';
import { InputError, SmkitError } from '../util/errors.js';

/*
 * The string syntax of the job flags that `smkit local train` and the AWS `smkit train-job` share:
 * `--channel`, `--hyperparameters` / `--hyperparameters-file` and `--metric-definitions`, and those that
 * `smkit local transform` and `smkit transform-job` share. What the values may be is the contract's
 * (src/contract/job-spec.ts, src/contract/transform.ts); this module only reads the text.
 */

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

/** Case-insensitive spellings of each enum value, from the contract's schemas. */
function spellings<T extends string>(values: readonly T[]): Record<string, T> {
  return Object.fromEntries(values.map((value) => [value.toLowerCase(), value]));
}

const MODES = spellings(TrainingInputModeSchema.options);
const DISTRIBUTIONS = spellings(S3DistributionTypeSchema.options);
const WRAPPERS = spellings(RecordWrapperTypeSchema.options);
const COMPRESSIONS = spellings(CompressionTypeSchema.options);

function pick<T>(table: Record<string, T>, value: string, key: string, spec: string): T {
  const found = table[value.toLowerCase()];
  if (found === undefined) {
    throw new InputError(
      `--channel ${spec}: ${key} must be one of ${Object.values(table).join(', ')} (got '${value}')`,
    );
  }
  return found;
}

const CHANNEL_OPTIONS = 'mode, content-type, distribution, wrapper, compression, shuffle';

/**
 * Parses `train=DIR|s3://bucket/prefix[,mode=Pipe,content-type=text/csv,distribution=ShardedByS3Key,
 * wrapper=RecordIO,compression=Gzip,shuffle=SEED]` into a channel the contract accepts.
 * @example parseChannel('train=data/train,mode=Pipe').mode === 'Pipe'
 */
export function parseChannel(spec: string): ChannelSpec {
  const [first, ...rest] = splitTopLevel(spec, ',');
  const eq = first?.indexOf('=') ?? -1;
  if (!first || eq <= 0) throw new InputError(`--channel ${spec}: expected NAME=DIR[,mode=Pipe,...]`);
  const name = first.slice(0, eq);
  const fields: Record<string, unknown> = { name, source: first.slice(eq + 1) };
  for (const [key, value] of Object.entries(parseKeyValues(rest.join(','), `--channel ${spec}`))) {
    switch (key.toLowerCase()) {
      case 'mode':
        fields.mode = pick(MODES, value, key, spec);
        break;
      case 'content-type':
      case 'contenttype':
        fields.contentType = value;
        break;
      case 'distribution':
        fields.distribution = pick(DISTRIBUTIONS, value, key, spec);
        break;
      case 'wrapper':
        fields.wrapper = pick(WRAPPERS, value, key, spec);
        break;
      case 'compression':
        fields.compression = pick(COMPRESSIONS, value, key, spec);
        break;
      case 'shuffle':
        if (!/^\d+$/.test(value)) {
          throw new InputError(`--channel ${spec}: shuffle takes a seed, an integer >= 0 (got '${value}')`);
        }
        fields.shuffleSeed = Number(value);
        break;
      default:
        throw new InputError(`--channel ${spec}: unknown option '${key}' (use ${CHANNEL_OPTIONS})`);
    }
  }
  const parsed = ChannelSpecSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const got = issue.path[0] === 'name' ? ` (got '${name}')` : '';
    throw new InputError(`--channel ${spec}: ${issue.message}${got}`);
  }
  return parsed.data;
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
  return definitions.map((definition) => {
    const parsed = MetricDefinitionSchema.safeParse(definition);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      issue.path[0] === 'Regex'
        ? `--metric-definitions: the regex of '${definition.Name}' is ${issue.message}`
        : `--metric-definitions: '${definition.Name}': ${issue.message}`,
    );
  });
}

/** The hyperparameters of a job as the flags give them, and which keys came from the command line. */
export interface HyperparameterFlags {
  readonly values: RawHyperparameters;
  /** Keys typed on the command line (strings to be typed for script mode). */
  readonly cliKeys: ReadonlySet<string>;
}

/**
 * Reads `--hyperparameters-file FILE` (a JSON object) and `--hyperparameters k=v,...` (which wins per key).
 */
export async function readHyperparameterFlags(options: {
  readonly hyperparameters?: string;
  readonly hyperparametersFile?: string;
}): Promise<HyperparameterFlags> {
  let fromFile: Record<string, unknown> = {};
  if (options.hyperparametersFile) {
    try {
      fromFile = JSON.parse(await readFile(options.hyperparametersFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new SmkitError(
        `--hyperparameters-file ${options.hyperparametersFile}: ${(error as Error).message}; give a JSON object such as {"k": 3}`,
      );
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new SmkitError(`--hyperparameters-file ${options.hyperparametersFile} must hold a JSON object`);
    }
  }
  const fromCli = options.hyperparameters ? parseKeyValues(options.hyperparameters, '--hyperparameters') : {};
  return { values: { ...fromFile, ...fromCli }, cliKeys: new Set(Object.keys(fromCli)) };
}

/** Commander's collector for a repeatable option: `--channel a --channel b` -> `['a', 'b']`. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Parses a number option: `integer` and `min` say what is allowed, the error says it. */
export function numberOption(min: number, integer: boolean) {
  return (value: string): number => {
    const number = Number(value);
    if (
      value.trim() === '' ||
      !Number.isFinite(number) ||
      number < min ||
      (integer && !Number.isInteger(number))
    ) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
    return number;
  };
}

/** What `addTrainingJobFlags` adds, as commander parses it. */
export interface TrainingJobFlags {
  readonly entryPoint?: string;
  readonly sourceDir?: string;
  readonly hyperparameters?: string;
  readonly hyperparametersFile?: string;
  /** Raw `--channel` texts; `parseChannel` each. */
  readonly channel?: string[];
  readonly maxRuntime?: number;
  readonly metricDefinitions?: string;
  readonly jobName?: string;
}

/**
 * Adds the flags a training job is described with, the same for `smkit local train` and the AWS
 * `smkit train-job`: --entry-point, --source-dir, --hyperparameters(-file), --channel (repeatable),
 * --max-runtime, --metric-definitions, --job-name. Where the job runs (hosts, output, image) is the
 * command's own.
 */
export function addTrainingJobFlags(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--algorithm <name>',
        'built-in algorithm (or --entry-point; an --image of your own may need neither)',
      ).choices(algorithmNames(builtinAlgorithms)),
    )
    .option('--entry-point <file>', 'script mode: the training script (or --algorithm)')
    .option(
      '--source-dir <dir>',
      'script mode: directory copied to /opt/ml/code (entry point relative to it)',
    )
    .option('--hyperparameters <k=v,...>', 'hyperparameters, e.g. k=3,feature_dim=4')
    .option('--hyperparameters-file <json>', 'hyperparameters as a JSON object')
    .option('--channel <name=dir[,opts]>', `channel (repeatable): ${CHANNEL_OPTIONS}`, collect)
    .option(
      '--max-runtime <seconds>',
      `MaxRuntimeInSeconds: SIGTERM then, SIGKILL ${STOP_GRACE_SECONDS} s later`,
      numberOption(1, false),
    )
    .option('--metric-definitions <name=regex;...>', 'MetricDefinitions applied to the logs')
    .option('--job-name <name>', 'TrainingJobName');
}

/** What `addTransformFlags` adds, as commander parses it (SageMaker's values, flag names). */
export interface TransformFlags {
  readonly contentType: string;
  readonly accept: string;
  readonly splitType: SplitType;
  readonly strategy?: BatchStrategy;
  readonly maxPayload?: number;
  readonly concurrency?: number;
  readonly assembleWith: AssembleWith;
  readonly inputFilter?: string;
  readonly joinSource: JoinSource;
  readonly outputFilter?: string;
}

/**
 * Adds the flags a batch transform is described with, the same for `smkit local transform` and the AWS
 * `smkit transform-job`: --content-type, --accept, --split-type, --strategy, --max-payload,
 * --concurrency, --assemble-with, --input-filter, --join-source, --output-filter. Choices come from the
 * contract's schemas. Where input and output live is the command's own.
 */
export function addTransformFlags(command: Command): Command {
  return command
    .requiredOption('--content-type <type>', 'ContentType of the input')
    .option('--accept <type>', 'Accept', 'application/json')
    .addOption(
      new Option('--split-type <type>', 'SplitType').choices(SplitTypeSchema.options).default('None'),
    )
    .addOption(new Option('--strategy <strategy>', 'BatchStrategy').choices(BatchStrategySchema.options))
    .option('--max-payload <mb>', 'MaxPayloadInMB (0 = chunked, no limit)', numberOption(0, false))
    .option('--concurrency <n>', 'MaxConcurrentTransforms', numberOption(1, true))
    .addOption(
      new Option('--assemble-with <how>', 'AssembleWith').choices(AssembleWithSchema.options).default('None'),
    )
    .option('--input-filter <jsonpath>', 'InputFilter, e.g. $[1:]')
    .addOption(
      new Option('--join-source <source>', 'JoinSource').choices(JoinSourceSchema.options).default('None'),
    )
    .option('--output-filter <jsonpath>', 'OutputFilter, e.g. $[-1]');
}

/**
 * The DataProcessing of CreateTransformJob from the transform flags; throws an InputError naming the flag
 * when a filter is too long.
 */
export function dataProcessingFromFlags(flags: TransformFlags): DataProcessing {
  const parsed = DataProcessingSchema.safeParse({
    InputFilter: flags.inputFilter,
    OutputFilter: flags.outputFilter,
    JoinSource: flags.joinSource,
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const flag = {
    InputFilter: '--input-filter',
    OutputFilter: '--output-filter',
    JoinSource: '--join-source',
  }[String(issue.path[0]) as 'InputFilter'];
  throw new InputError(`${flag ?? 'DataProcessing'}: ${issue.message}`);
}
