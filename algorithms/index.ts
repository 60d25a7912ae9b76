import { registerAlgorithm } from './registry.js';
import type { Algorithm } from './types.js';

/** Registers the built-in algorithms; each is imported only when a job or server asks for it. */
registerAlgorithm('kmeans', async () => (await import('./kmeans/index.js')).kmeans as unknown as Algorithm);
