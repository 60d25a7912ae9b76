export * from './config.js';
export * from './env.js';
export * from './hyperparameters.js';
export * from './job-spec.js';
export * from './limits.js';
export * from './paths.js';
export * from './transform.js';
