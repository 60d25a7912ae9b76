import { registerAlgorithm } from './registry.js';
import type { Algorithm } from './types.js';

/** Registers the built-in algorithms; each is imported only when a job or server asks for it. */
registerAlgorithm('kmeans', async () => (await import('./kmeans/index.js')).kmeans as unknown as Algorithm);
registerAlgorithm('pca', async () => (await import('./pca/index.js')).pca as unknown as Algorithm);

export { algorithmNames, findAlgorithm, registerAlgorithm } from './registry.js';
