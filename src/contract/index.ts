export * from './config.js';
export * from './env.js';
export * from './hyperparameters.js';
export * from './paths.js';
