import { ENV } from '../contract/env.js';
import { DEFAULT_MAX_PAYLOAD_IN_MB, DEFAULT_MODEL_SERVER_TIMEOUT_SECONDS } from '../contract/limits.js';

/** One environment variable (or several spellings of it) and what it does, for `--help`. */
interface EnvEntry {
  readonly names: string | readonly string[];
  readonly text: string;
}

const COMMON: readonly EnvEntry[] = [
  { names: ENV.baseDir, text: 'root of the contract tree (default /opt/ml)' },
  {
    names: ENV.algorithm,
    text: 'built-in algorithm baked into the image',
  },
  { names: [ENV.region, ENV.awsRegion], text: 'AWS region for S3 downloads' },
  { names: ENV.s3Endpoint, text: "an S3 endpoint other than AWS's (moto, MinIO)" },
  { names: ENV.logLevel, text: 'Python-style log level (default 20 = info)' },
  {
    names: ENV.maxExtractBytes,
    text: 'most bytes an archive (sourcedir, model.tar.gz) may unpack to (default: free space)',
  },
];

/** The variables `smkit train` reads. */
export const TRAIN_ENV: readonly EnvEntry[] = [
  ...COMMON,
  { names: ENV.program, text: 'script-mode entry point when the hyperparameters name none' },
  { names: ENV.trainingJobName, text: 'TrainingJobName, for logs and the script environment' },
  { names: ENV.pipeWaitSeconds, text: 'how long to wait for a Pipe-mode FIFO to appear (default 600)' },
  { names: ENV.hostWaitSeconds, text: 'how long to wait for peer host names to resolve (default 900)' },
  { names: ENV.hostAddresses, text: 'HOST=IP,... to reach peers without DNS (set by smkit local train)' },
];

/** The variables `smkit serve` reads. */
export const SERVE_ENV: readonly EnvEntry[] = [
  ...COMMON,
  { names: ENV.bindToPort, text: 'port to listen on (default 8080)' },
  { names: ENV.modelServerWorkers, text: 'worker processes (default: one per CPU)' },
  {
    names: ENV.modelServerTimeout,
    text: `seconds per invocation (default ${DEFAULT_MODEL_SERVER_TIMEOUT_SECONDS})`,
  },
  { names: ENV.defaultAccept, text: 'response type when Accept is */* or absent (default application/json)' },
  { names: ENV.maxPayloadInMb, text: `request body limit in MB (default ${DEFAULT_MAX_PAYLOAD_IN_MB})` },
  { names: ENV.multiModel, text: 'true: multi-model endpoint (POST /models, /models/NAME/invoke)' },
  {
    names: ENV.multiModelMemoryMb,
    text: 'multi-model: MiB the loaded models may hold (default 70% of the container limit)',
  },
  { names: ENV.batch, text: 'true: batch transform (set by SageMaker)' },
  { names: ENV.batchStrategy, text: 'MULTI_RECORD or SINGLE_RECORD, proposed at /execution-parameters' },
  { names: ENV.maxConcurrentTransforms, text: 'MaxConcurrentTransforms proposed at /execution-parameters' },
  { names: ENV.program, text: 'user inference script in the code directory' },
  { names: ENV.submitDirectory, text: 'user code: a directory, a tar.gz or an s3:// URI' },
];

const NAME_COLUMN = 36;

/**
 * The "Environment variables:" section of a command's `--help`: one variable (or its spellings) a line,
 * its text in a second column, or on the next line when the names are too long for the column.
 */
export function envHelp(entries: readonly EnvEntry[]): string {
  const lines = entries.map((entry) => {
    const names = typeof entry.names === 'string' ? entry.names : entry.names.join(', ');
    return names.length < NAME_COLUMN
      ? `  ${names.padEnd(NAME_COLUMN)}  ${entry.text}`
      : `  ${names}
  ${' '.repeat(NAME_COLUMN)}  ${entry.text}`;
  });
  return `\nEnvironment variables:\n${lines.join('\n')}\n`;
}
