import path from 'node:path';

/** Every path of the SageMaker container contract, resolved under one root (default `/opt/ml`). */
export interface SageMakerPaths {
  readonly base: string;
  readonly input: string;
  readonly inputConfig: string;
  readonly hyperparameters: string;
  readonly inputDataConfig: string;
  readonly resourceConfig: string;
  readonly checkpointConfig: string;
  readonly inputData: string;
  readonly model: string;
  /** Multi-model endpoints: the root holding one folder per model. */
  readonly models: string;
  readonly output: string;
  readonly outputData: string;
  readonly failure: string;
  readonly checkpoints: string;
  /** Script mode: where user code is extracted. */
  readonly code: string;
}

/** The default root that SageMaker mounts. Overridden by `SAGEMAKER_BASE_DIR`, as AWS's toolkits do. */
export const DEFAULT_BASE_DIR = '/opt/ml';

/**
 * Resolves every contract path under `base`.
 * @example resolvePaths('/tmp/job').hyperparameters === '/tmp/job/input/config/hyperparameters.json'
 */
export function resolvePaths(base: string = DEFAULT_BASE_DIR): SageMakerPaths {
  const root = path.resolve(base);
  const input = path.join(root, 'input');
  const inputConfig = path.join(input, 'config');
  const output = path.join(root, 'output');
  return Object.freeze({
    base: root,
    input,
    inputConfig,
    hyperparameters: path.join(inputConfig, 'hyperparameters.json'),
    inputDataConfig: path.join(inputConfig, 'inputdataconfig.json'),
    resourceConfig: path.join(inputConfig, 'resourceconfig.json'),
    checkpointConfig: path.join(inputConfig, 'checkpointconfig.json'),
    inputData: path.join(input, 'data'),
    model: path.join(root, 'model'),
    models: path.join(root, 'models'),
    output,
    outputData: path.join(output, 'data'),
    failure: path.join(output, 'failure'),
    checkpoints: path.join(root, 'checkpoints'),
    code: path.join(root, 'code'),
  });
}

/** The directory of a File/FastFile-mode channel. */
export function channelDir(paths: SageMakerPaths, channel: string): string {
  return path.join(paths.inputData, channel);
}

/** The FIFO of a Pipe-mode channel for one epoch (`train_0`, `train_1`, ...). */
export function channelFifo(paths: SageMakerPaths, channel: string, epoch: number): string {
  return path.join(paths.inputData, `${channel}_${epoch}`);
}
