import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
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
import { InputError, SmkitError } from '../util/errors.js';
import { collectYoungGarbage, YOUNG_GARBAGE_MIN_BYTES } from '../util/young-garbage.js';
import { listFiles } from './job-tree.js';
import { type CutBatch, cutBatches } from './transform-batches.js';
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
  /** Mini-batches of `file` answered so far, of `fileBatches` cut so far (the file is cut as it is read). */
  readonly batches: number;
  readonly fileBatches: number;
  /** Bytes of `file` read so far, of `fileBytes`. */
  readonly bytesRead?: number;
  readonly fileBytes?: number;
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
      const outputFile = path.join(options.output, `${relative}.out`);
      const { records, requests } = await transformFile(inputFile, outputFile, {
        options,
        name: relative,
        parameters,
        maxBytes,
        mapRecord: inputFilter
          ? (record) => Buffer.from(applyFilter(record.toString('utf8'), inputFilter, inputFormat, 'input'))
          : undefined,
        answer: (body, originals) =>
          perRecord
            ? Buffer.from(
                outputRecords(
                  body.toString('utf8'),
                  originals!,
                  options,
                  inputFormat,
                  outputFormat,
                  outputFilter,
                ),
              )
            : assemble(body, options.assembleWith),
        perRecord,
        progress: (batches, fileBatches, bytesRead, fileBytes) =>
          options.onProgress?.({
            file: relative,
            filesDone: fileIndex,
            files: files.length,
            batches,
            fileBatches,
            bytesRead,
            fileBytes,
          }),
      });
      done.push({ input: inputFile, output: outputFile, records, requests });
    } catch (error) {
      failures.push({ input: inputFile, error: (error as Error).message });
    }
  }
  return { parameters, files: done, failures, seconds: (Date.now() - started) / 1000 };
}

/** What `transformFile` needs besides the files. */
interface FileJob {
  readonly options: TransformOptions;
  readonly name: string;
  readonly parameters: ExecutionParameters;
  readonly maxBytes: number;
  readonly mapRecord: ((record: Buffer) => Buffer) | undefined;
  /** The bytes written for one answer; `originals` are the batch's input records when `perRecord`. */
  readonly answer: (body: Buffer, originals: readonly Buffer[] | undefined) => Buffer;
  readonly perRecord: boolean;
  readonly progress: (batches: number, fileBatches: number, bytesRead: number, fileBytes: number) => void;
}

/**
 * Transforms one file: cuts it into mini-batches as it reads (`cutBatches`), keeps at most
 * MaxConcurrentTransforms requests in flight and at most twice that many answers waiting for an earlier
 * one, and appends answers to the output in input order as they arrive. The output is written beside
 * its final name and renamed once every batch is answered, so a failed file leaves no `.out` behind.
 * Memory stays a few payloads, whatever the file's size.
 */
async function transformFile(
  inputFile: string,
  outputFile: string,
  job: FileJob,
): Promise<{ records: number; requests: number }> {
  const { options, parameters, maxBytes } = job;
  const concurrency = parameters.MaxConcurrentTransforms;
  const window = 2 * concurrency;
  const fileBytes = (await stat(inputFile)).size;
  await mkdir(path.dirname(outputFile), { recursive: true });
  const partial = `${outputFile}.partial`;
  const output = await open(partial, 'w');
  const waiting = new Map<number, Buffer>();
  let nextToWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let failure: Error | undefined;
  let answered = 0;
  let cut = 0;
  let records = 0;
  let bytesRead = 0;
  const inFlight = new Set<Promise<void>>();
  const timeoutMs = options.invocationTimeoutMs ?? TRANSFORM_LIMITS.defaultInvocationTimeoutSeconds * 1000;
  const transformBatch = async (batch: CutBatch): Promise<void> => {
    const bodyBytes = batch.body.length;
    const answer = await send(`${options.endpoint}/invocations`, {
      method: 'POST',
      body: batch.body,
      headers: {
        'content-type': options.contentType,
        accept: options.accept,
        ...(maxBytes === 0 ? { 'transfer-encoding': 'chunked' } : { 'content-length': batch.body.length }),
      },
      timeoutMs,
      // Sent: its memory can carry a later batch while this one computes.
      onBodySent: () => batch.release(),
    });
    // The body's and the answer's socket pieces are garbage now: worth a scavenge (~50 us) after a
    // large payload, not after each of a SingleRecord job's many small ones.
    if (bodyBytes + answer.body.length >= YOUNG_GARBAGE_MIN_BYTES) collectYoungGarbage();
    if (answer.status < 200 || answer.status > 299) {
      throw new SmkitError(
        `mini-batch ${batch.index + 1} (from record ${batch.first}) got ${answer.status}: ${answer.body.toString('utf8').slice(0, 500)}`,
      );
    }
    waiting.set(batch.index, job.answer(answer.body, batch.originals));
    for (let next = waiting.get(nextToWrite); next !== undefined; next = waiting.get(nextToWrite)) {
      const bytes = next;
      waiting.delete(nextToWrite++);
      writing = writing.then(() => output.write(bytes));
    }
    answered++;
    job.progress(answered, cut, bytesRead, fileBytes);
    // The slot frees once this answer (and the ones before it) reached the file: backpressure.
    await writing;
  };
  try {
    try {
      for await (const batch of cutBatches(inputFile, job.name, {
        splitType: options.splitType as 'Line' | 'RecordIO' | 'None',
        strategy: parameters.BatchStrategy,
        maxBytes,
        mapRecord: job.mapRecord,
        keepOriginals: job.perRecord,
        onRead: (bytes) => {
          bytesRead = bytes;
        },
      })) {
        while (
          !failure &&
          inFlight.size > 0 &&
          (inFlight.size >= concurrency || batch.index - nextToWrite >= window)
        ) {
          await Promise.race(inFlight);
        }
        if (failure) break;
        cut++;
        records += batch.count;
        const running: Promise<void> = transformBatch(batch)
          .catch((error: unknown) => {
            failure ??= error as Error;
          })
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
    } catch (error) {
      failure ??= error as Error;
    }
    await Promise.all(inFlight);
    await writing;
    if (failure) throw failure;
    await output.close();
    await rename(partial, outputFile);
    return { records, requests: cut };
  } catch (error) {
    await output.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
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
