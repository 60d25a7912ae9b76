export * from './accumulator.js';
export * from './kernel.js';
export * from './pca-kernel.js';
export * from './random.js';
export * from './solve.js';
