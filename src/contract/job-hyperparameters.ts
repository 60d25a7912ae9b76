import path from 'node:path';
import {
  encodeBuiltInHyperparameters,
  encodeScriptModeHyperparameters,
  type RawHyperparameters,
} from './hyperparameter-encoding.js';

/** What decides a training job's HyperParameters: the same for `smkit local train` and `smkit train-job`. */
export interface JobHyperparameterOptions {
  /** A built-in algorithm: hyperparameters go as the SDK sends them to built-ins (`str(value)`). */
  readonly algorithm?: string;
  /** Script mode: the entry file, relative to `sourceDir` when that is given. */
  readonly entryPoint?: string;
  readonly sourceDir?: string;
  readonly hyperparameters: RawHyperparameters;
  /** Keys typed on the command line (strings to be typed for script mode). */
  readonly hyperparametersFromCli?: ReadonlySet<string>;
  readonly jobName: string;
  readonly region: string;
  /** `sagemaker_submit_directory`: the code dir locally, the S3 URI of sourcedir.tar.gz on AWS. */
  readonly submitDirectory: string;
}

/** SageMaker SDK's default `container_log_level` (logging.INFO). */
export const DEFAULT_CONTAINER_LOG_LEVEL = 20;

/**
 * A training job's HyperParameters as the SageMaker Python SDK sends them: a built-in's values as
 * `str(value)`; for script mode every value `json.dumps`-ed plus `sagemaker_program`,
 * `sagemaker_submit_directory`, `sagemaker_container_log_level`, `sagemaker_job_name`, `sagemaker_region`.
 */
export function jobHyperparameters(options: JobHyperparameterOptions): Record<string, string> {
  // A built-in, or an image's own algorithm: the hyperparameters as plain strings.
  if (options.algorithm || !options.entryPoint) return encodeBuiltInHyperparameters(options.hyperparameters);
  const program = options.sourceDir ? options.entryPoint! : path.basename(options.entryPoint!);
  return encodeScriptModeHyperparameters(
    {
      ...options.hyperparameters,
      sagemaker_program: program,
      sagemaker_submit_directory: options.submitDirectory,
      sagemaker_container_log_level: DEFAULT_CONTAINER_LOG_LEVEL,
      sagemaker_job_name: options.jobName,
      sagemaker_region: options.region,
    },
    options.hyperparametersFromCli,
  );
}
