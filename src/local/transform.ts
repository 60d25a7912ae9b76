import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AssembleWith,
  type BatchStrategy,
  checkExecutionParameters,
  type ExecutionParameters,
  executionParametersFromWire,
  type JoinSource,
  type ParameterSources,
  type SplitType,
  TRANSFORM_LIMITS,
} from '../contract/transform.js';
import { send } from '../io/http-client.js';
import { parseMediaType } from '../io/media-type.js';
import { encodeRecordIO, splitRecordIO } from '../io/recordio.js';
import { InputError, SmkitError } from '../util/errors.js';
import { listFiles } from './job-tree.js';
import { compileFilter, type RecordFilter, splitCsvFields } from './jsonpath.js';

/** Options of `smkit local transform` against a running endpoint. */
export interface TransformOptions {
  readonly endpoint: string;
  readonly input: string;
  readonly output: string;
  readonly contentType: string;
  readonly accept: string;
  readonly splitType: SplitType;
  /** Unset: the container's /execution-parameters answer, then MultiRecord. */
  readonly strategy?: BatchStrategy;
  /** Unset: the container's answer, then 6. 0 = no limit (chunked transfer). */
  readonly maxPayloadMb?: number;
  /** Unset: the container's answer, then 1. */
  readonly concurrency?: number;
  readonly assembleWith: AssembleWith;
  readonly inputFilter?: string;
  readonly joinSource: JoinSource;
  readonly outputFilter?: string;
  /** Per-request timeout (ModelClientConfig.InvocationsTimeoutInSeconds, default 600 s). */
  readonly invocationTimeoutMs?: number;
  readonly onProgress?: (progress: TransformProgress) => void;
}

/** Progress after each mini-batch. */
export interface TransformProgress {
  readonly file: string;
  readonly filesDone: number;
  readonly files: number;
  /** Mini-batches of `file` answered so far, of `fileBatches`. */
  readonly batches: number;
  readonly fileBatches: number;
}

/** The parameters a transform ran with, and where each came from (`flag`, `container` or `default`). */
export interface ResolvedExecutionParameters extends ExecutionParameters {
  readonly source: ParameterSources;
}

/** What a transform did. */
export interface TransformResult {
  readonly parameters: ResolvedExecutionParameters;
  readonly files: readonly { input: string; output: string; records: number; requests: number }[];
  readonly failures: readonly { input: string; error: string }[];
  readonly seconds: number;
}

const MIB = 1024 * 1024;

/** Asks the container for GET /execution-parameters; `{}` when it does not answer 200 with JSON. */
async function askContainer(endpoint: string): Promise<Partial<ExecutionParameters>> {
  try {
    const answer = await send(`${endpoint}/execution-parameters`, { timeoutMs: 5_000 });
    if (answer.status !== 200) return {};
    return executionParametersFromWire(JSON.parse(answer.body.toString('utf8')));
  } catch {
    return {};
  }
}

/**
 * Resolves the execution parameters as batch transform does: the request's values, then the container's
 * GET /execution-parameters answer, then the defaults (MultiRecord, 6 MB, 1 concurrent transform).
 */
export async function resolveExecutionParameters(
  options: TransformOptions,
): Promise<ResolvedExecutionParameters> {
  const fromContainer = await askContainer(options.endpoint);
  const choose = <T>(flag: T | undefined, container: T | undefined, fallback: T): [T, string] =>
    flag !== undefined
      ? [flag, 'flag']
      : container !== undefined
        ? [container, 'container']
        : [fallback, 'default'];
  const [strategy, strategySource] = choose<BatchStrategy>(
    options.strategy,
    fromContainer.BatchStrategy,
    TRANSFORM_LIMITS.defaultStrategy,
  );
  const [payload, payloadSource] = choose(
    options.maxPayloadMb,
    fromContainer.MaxPayloadInMB,
    TRANSFORM_LIMITS.defaultPayloadInMB,
  );
  const [concurrency, concurrencySource] = choose(
    options.concurrency,
    fromContainer.MaxConcurrentTransforms,
    TRANSFORM_LIMITS.defaultConcurrency,
  );
  const source = {
    BatchStrategy: strategySource,
    MaxPayloadInMB: payloadSource,
    MaxConcurrentTransforms: concurrencySource,
  };
  const parameters = {
    BatchStrategy: strategy,
    MaxPayloadInMB: payload,
    MaxConcurrentTransforms: concurrency,
  };
  return { ...checkExecutionParameters(parameters, source), source };
}

/** Cuts a file into records: one per line, one per RecordIO record (split parts kept together), or the whole file. */
export function splitRecords(data: Buffer, splitType: SplitType, file: string): Buffer[] {
  if (splitType === 'None') return data.length ? [data] : [];
  if (splitType === 'TFRecord') {
    throw new InputError(`${file}: local transform cannot split TFRecord files; use Line, RecordIO or None`);
  }
  if (splitType === 'Line') {
    const lines = data.toString('utf8').split('\n');
    return lines
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line !== '')
      .map((l) => Buffer.from(l));
  }
  // Each record is sent framed, as batch transform sends RecordIO splits.
  return splitRecordIO(data, file).map((payload) => encodeRecordIO(payload));
}

type Format = 'csv' | 'json' | 'other';

function formatOf(contentType: string): Format {
  const { type } = parseMediaType(contentType);
  if (type === 'text/csv') return 'csv';
  if (type === 'application/json' || type === 'application/jsonlines' || type === 'application/x-jsonlines') {
    return 'json';
  }
  return 'other';
}

function applyFilter(record: string, filter: RecordFilter, format: Format, what: string): string {
  if (format === 'csv') return filter.csv(splitCsvFields(record)).join(',');
  if (format === 'json') return JSON.stringify(filter.json(JSON.parse(record)));
  throw new InputError(`${what} filters apply to text/csv, application/json and application/jsonlines only`);
}

function join(input: string, output: string, inputFormat: Format, outputFormat: Format): string {
  if (inputFormat === 'csv' && outputFormat === 'csv') return `${input},${output}`;
  if (inputFormat === 'json' && outputFormat === 'json') {
    const source = JSON.parse(input) as unknown;
    const result = JSON.parse(output) as unknown;
    if (Array.isArray(source))
      return JSON.stringify([...source, ...(Array.isArray(result) ? result : [result])]);
    if (source && typeof source === 'object') return JSON.stringify({ ...source, SageMakerOutput: result });
    throw new InputError('--join-source Input needs JSON objects or arrays as input records');
  }
  throw new InputError(
    `--join-source Input joins CSV with CSV or JSON with JSON (got ${inputFormat} input, ${outputFormat} output)`,
  );
}

interface Batch {
  readonly records: Buffer[];
  readonly body: Buffer;
}

function batchBody(records: readonly Buffer[], splitType: SplitType): Buffer {
  if (splitType === 'Line') return Buffer.from(records.map((r) => `${r.toString('utf8')}\n`).join(''));
  return Buffer.concat(records);
}

/** Packs records into mini-batches that stay within the payload limit; a batch never spans files. */
export function makeBatches(
  records: readonly Buffer[],
  splitType: SplitType,
  strategy: BatchStrategy,
  maxBytes: number,
  file: string,
): Batch[] {
  const batches: Batch[] = [];
  let current: Buffer[] = [];
  let size = 0;
  const extra = splitType === 'Line' ? 1 : 0;
  const flush = () => {
    if (current.length) batches.push({ records: current, body: batchBody(current, splitType) });
    current = [];
    size = 0;
  };
  for (const [i, record] of records.entries()) {
    const bytes = record.length + extra;
    if (maxBytes > 0 && bytes > maxBytes) {
      throw new InputError(
        `${file}: record ${i + 1} is ${bytes} bytes, over MaxPayloadInMB (${maxBytes} bytes); raise --max-payload or split the input (--split-type Line)`,
      );
    }
    if (strategy === 'SingleRecord' || (maxBytes > 0 && size + bytes > maxBytes)) flush();
    current.push(record);
    size += bytes;
  }
  flush();
  return batches;
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Runs a batch transform against an endpoint as SageMaker does: execution parameters resolved first, each
 * input file split into records and mini-batches (never across files), InputFilter / JoinSource /
 * OutputFilter applied, and `X.out` written per input file `X`, in input order.
 */
export async function runTransform(options: TransformOptions): Promise<TransformResult> {
  const started = Date.now();
  if (options.splitType === 'TFRecord') {
    throw new InputError(
      'local transform cannot split TFRecord files (--split-type TFRecord); use Line, RecordIO or None',
    );
  }
  const parameters = await resolveExecutionParameters(options);
  const inputFormat = formatOf(options.contentType);
  const outputFormat = formatOf(options.accept);
  const inputFilter = options.inputFilter ? compileFilter(options.inputFilter) : undefined;
  const outputFilter = options.outputFilter ? compileFilter(options.outputFilter) : undefined;
  const perRecord = options.joinSource === 'Input' || outputFilter !== undefined;
  if ((inputFilter || perRecord) && options.splitType === 'RecordIO') {
    throw new InputError('filters and --join-source Input need --split-type Line or None');
  }
  const files = await listFiles(options.input).catch(() => {
    throw new InputError(`--input ${options.input} is not a directory; pass a directory of input files`);
  });
  const maxBytes = parameters.MaxPayloadInMB * MIB;
  const done: TransformResult['files'][number][] = [];
  const failures: TransformResult['failures'][number][] = [];
  for (const [fileIndex, relative] of files.entries()) {
    const inputFile = path.join(options.input, relative);
    try {
      const records = splitRecords(await readFile(inputFile), options.splitType, relative);
      const sent = inputFilter
        ? records.map((r) => Buffer.from(applyFilter(r.toString('utf8'), inputFilter, inputFormat, 'input')))
        : records;
      const batches = makeBatches(sent, options.splitType, parameters.BatchStrategy, maxBytes, relative);
      const originals: Buffer[][] = [];
      const firsts: number[] = [];
      let at = 0;
      for (const batch of batches) {
        firsts.push(at + 1);
        originals.push(records.slice(at, at + batch.records.length));
        at += batch.records.length;
      }
      const outputs: Buffer[] = new Array(batches.length);
      let finished = 0;
      await pool(batches, parameters.MaxConcurrentTransforms, async (batch, index) => {
        const answer = await send(`${options.endpoint}/invocations`, {
          method: 'POST',
          body: batch.body,
          headers: {
            'content-type': options.contentType,
            accept: options.accept,
            ...(maxBytes === 0
              ? { 'transfer-encoding': 'chunked' }
              : { 'content-length': batch.body.length }),
          },
          timeoutMs: options.invocationTimeoutMs ?? TRANSFORM_LIMITS.defaultInvocationTimeoutSeconds * 1000,
        });
        if (answer.status < 200 || answer.status > 299) {
          throw new SmkitError(
            `mini-batch ${index + 1} (from record ${firsts[index]}) got ${answer.status}: ${answer.body.toString('utf8').slice(0, 500)}`,
          );
        }
        const text = () => answer.body.toString('utf8');
        outputs[index] = perRecord
          ? Buffer.from(
              outputRecords(text(), originals[index]!, options, inputFormat, outputFormat, outputFilter),
            )
          : assemble(answer.body, options.assembleWith);
        finished++;
        options.onProgress?.({
          file: relative,
          filesDone: fileIndex,
          files: files.length,
          batches: finished,
          fileBatches: batches.length,
        });
      });
      const outputFile = path.join(options.output, `${relative}.out`);
      await mkdir(path.dirname(outputFile), { recursive: true });
      await writeFile(outputFile, Buffer.concat(outputs));
      done.push({ input: inputFile, output: outputFile, records: records.length, requests: batches.length });
    } catch (error) {
      failures.push({ input: inputFile, error: (error as Error).message });
    }
  }
  return { parameters, files: done, failures, seconds: (Date.now() - started) / 1000 };
}

function assemble(body: Buffer, assembleWith: AssembleWith): Buffer {
  if (assembleWith === 'None' || body.length === 0 || body.at(-1) === 0x0a) return body;
  return Buffer.concat([body, Buffer.from('\n')]);
}

function outputRecords(
  body: string,
  inputs: readonly Buffer[],
  options: TransformOptions,
  inputFormat: Format,
  outputFormat: Format,
  outputFilter: RecordFilter | undefined,
): string {
  const answers =
    options.splitType === 'Line' ? body.split('\n').filter((line) => line.trim() !== '') : [body.trim()];
  if (answers.length !== inputs.length) {
    throw new SmkitError(
      `the container answered ${answers.length} records for ${inputs.length} (MultiRecord needs exactly one output record per input record, in order)`,
    );
  }
  const separator = options.assembleWith === 'Line' ? '\n' : '';
  return answers
    .map((answer, i) => {
      let record = answer;
      let format = outputFormat;
      if (options.joinSource === 'Input') {
        record = join(inputs[i]!.toString('utf8'), answer, inputFormat, outputFormat);
        format = inputFormat;
      }
      return (outputFilter ? applyFilter(record, outputFilter, format, 'output') : record) + separator;
    })
    .join('');
}
