/**
 * `smkit/train`: run a SageMaker training job (`docker run IMAGE train`) with smkit's built-in
 * algorithms or your own. Nothing is registered globally: pass the algorithms a job may name.
 *
 * ```ts
 * import { runTrainingJob } from 'smkit/train';
 * import { builtinAlgorithms } from 'smkit/algorithms';
 * process.exit(await runTrainingJob({ env: process.env, algorithms: [...builtinAlgorithms, myAlgorithm] }));
 * ```
 */
/** The `Algorithm` interface and everything its context and predictor are made of. */
export type * from '../../algorithms/types.js';
export { algorithmHyperparameters, parseAlgorithmHyperparameters } from './builtin.js';
export { createTrainContext, type TrainContextOptions } from './context.js';
export { type MetricsWriter, createMetricsWriter } from './metrics.js';
export { chooseJobKind, type RunTrainingJobOptions, runTrainingJob, type TrainingJobKind } from './runner.js';
