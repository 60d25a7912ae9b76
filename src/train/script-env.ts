import type { JobHosts } from './cluster.js';
import path from 'node:path';
import {
  channelDir,
  type HyperparameterValue,
  hyperparameterText,
  type SageMakerPaths,
  type TrainingConfig,
} from '../contract/index.js';

/** Script-mode hyperparameters that configure the toolkit rather than the user's script. */
export const SCRIPT_MODE_KEYS = Object.freeze({
  program: 'sagemaker_program',
  submitDirectory: 'sagemaker_submit_directory',
  logLevel: 'sagemaker_container_log_level',
  region: 'sagemaker_region',
  jobName: 'sagemaker_job_name',
});

/** What {@link buildScriptEnvironment} needs besides the config files. */
export interface ScriptEnvironmentOptions {
  readonly paths: SageMakerPaths;
  readonly config: TrainingConfig;
  readonly cluster: JobHosts;
  /** Decoded hyperparameters the script sees (platform, `sagemaker_*` and `smkit_*` keys removed). */
  readonly hyperparameters: Readonly<Record<string, HyperparameterValue>>;
  /** `sagemaker_*` keys smkit does not know, as the reference's `additional_framework_parameters`. */
  readonly frameworkParameters: Readonly<Record<string, HyperparameterValue>>;
  /** Entry point file name relative to the code dir. */
  readonly entryPoint: string;
  readonly codeDir: string;
  readonly checkpointDir: string;
  readonly logLevel: number;
  readonly jobName: string | undefined;
  readonly numCpus: number;
  readonly numGpus: number;
}

/** The user script's environment and arguments. */
export interface ScriptEnvironment {
  /** `SM_*` variables, added to the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
  /** `--key value` pairs sorted by key (`-k value` for one-letter keys). */
  readonly args: readonly string[];
}

/** JSON with object keys sorted at every level and no spaces, as the reference toolkit's env values. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** An env value: strings raw, `null` empty, anything else sorted compact JSON. */
function envValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return sortedJson(value);
}

/**
 * The command-line arguments of the reference toolkit: keys sorted, `--key value` (`-k value` for
 * one-letter keys), objects as `a=1,b=2`, other values as their text.
 */
export function userArgs(hyperparameters: Readonly<Record<string, HyperparameterValue>>): string[] {
  const args: string[] = [];
  for (const key of Object.keys(hyperparameters).sort()) {
    const value = hyperparameters[key]!;
    args.push(key.length > 1 ? `--${key}` : `-${key}`);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      args.push(
        Object.keys(value)
          .sort()
          .map((inner) => `${inner}=${hyperparameterText(value[inner]!)}`)
          .join(','),
      );
    } else {
      args.push(hyperparameterText(value));
    }
  }
  return args;
}

/**
 * The `SM_*` environment of the reference training toolkit (sagemaker-training-toolkit), so scripts
 * written for AWS's framework containers run unchanged. Adds SM_CHECKPOINT_DIR.
 */
export function buildScriptEnvironment(options: ScriptEnvironmentOptions): ScriptEnvironment {
  const { paths, config, cluster } = options;
  const resource = config.resourceConfig;
  const channels = Object.keys(config.inputDataConfig).sort();
  const channelDirs = Object.fromEntries(channels.map((name) => [name, channelDir(paths, name)]));
  const args = userArgs(options.hyperparameters);
  const group = resource.instance_groups?.find(
    (entry) => entry.instance_group_name === resource.current_group_name,
  );
  const values: Record<string, unknown> = {
    additional_framework_parameters: options.frameworkParameters,
    channel_input_dirs: channelDirs,
    channels,
    checkpoint_dir: options.checkpointDir,
    current_host: cluster.current,
    current_instance_group: resource.current_group_name ?? 'homogeneousCluster',
    current_instance_group_hosts: group?.hosts ?? cluster.hosts,
    current_instance_type: resource.current_instance_type ?? 'local',
    hosts: cluster.hosts,
    hps: options.hyperparameters,
    input_config_dir: paths.inputConfig,
    input_data_config: config.inputDataConfig,
    input_dir: paths.input,
    instance_groups: resource.instance_groups?.map((entry) => entry.instance_group_name) ?? [
      'homogeneousCluster',
    ],
    is_master: cluster.isLeader,
    job_name: options.jobName ?? '',
    log_level: options.logLevel,
    master_hostname: cluster.leader,
    model_dir: paths.model,
    module_dir: options.codeDir,
    module_name: path.basename(options.entryPoint).replace(/\.[^.]*$/, ''),
    network_interface_name: resource.network_interface_name,
    num_cpus: options.numCpus,
    num_gpus: options.numGpus,
    output_data_dir: paths.outputData,
    output_dir: paths.output,
    output_intermediate_dir: path.join(paths.output, 'intermediate'),
    resource_config: resource,
    user_args: args,
    user_entry_point: options.entryPoint,
  };
  const { additional_framework_parameters, hps, ...rest } = values;
  const trainingEnv = { ...rest, additional_framework_parameters, hyperparameters: hps };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (key === 'channel_input_dirs') continue;
    const name = key === 'additional_framework_parameters' ? 'FRAMEWORK_PARAMS' : key.toUpperCase();
    env[`SM_${name}`] = envValue(value);
  }
  for (const [name, dir] of Object.entries(channelDirs)) env[`SM_CHANNEL_${name.toUpperCase()}`] = dir;
  for (const [key, value] of Object.entries(options.hyperparameters)) {
    env[`SM_HP_${key.toUpperCase()}`] = envValue(value);
  }
  env['SM_TRAINING_ENV'] = sortedJson(trainingEnv);
  return { env, args };
}
