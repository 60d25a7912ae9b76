import { registerAlgorithm } from './registry.js';
import type { Algorithm } from './types.js';

/**
 * The hook that registers smkit's built-in algorithms: importing this module fills the registry.
 * Each algorithm is imported only when a job or server asks for it.
 */
export { algorithmNames, findAlgorithm, registerAlgorithm } from './registry.js';

registerAlgorithm('kmeans', async () => (await import('./kmeans/index.js')).kmeans as unknown as Algorithm);
