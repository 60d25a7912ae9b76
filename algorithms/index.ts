/**
 * The hook that registers smkit's built-in algorithms: importing this module fills the registry.
 * Each algorithm adds one lazy line here, e.g.
 * `registerAlgorithm('kmeans', async () => (await import('./kmeans/index.js')).kmeans);`
 */
export { algorithmNames, findAlgorithm, registerAlgorithm } from './registry.js';
