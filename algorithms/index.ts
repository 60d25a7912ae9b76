import { kmeans } from './kmeans/index.js';
import { pca } from './pca/index.js';
import type { Algorithm } from './types.js';

/**
 * The built-in algorithms, in the order the server tries them on a model directory. An algorithm
 * folder plus one line here is a complete built-in: the runner, the server, `smkit local train
 * --algorithm` and local mode's default MetricDefinitions all read this list. Each entry is a cheap
 * descriptor; its training and serving code load when used.
 */
export const builtinAlgorithms: readonly Algorithm[] = Object.freeze([kmeans as Algorithm, pca as Algorithm]);

/** The algorithm named `name` in `algorithms`, or `undefined`. */
export function findAlgorithm(algorithms: readonly Algorithm[], name: string): Algorithm | undefined {
  return algorithms.find((algorithm) => algorithm.name === name);
}

/** The names of `algorithms`, sorted (for messages and CLI choices). */
export function algorithmNames(algorithms: readonly Algorithm[]): string[] {
  return algorithms.map((algorithm) => algorithm.name).sort();
}
