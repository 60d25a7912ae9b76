import type { Algorithm } from './types.js';

/** The built-in algorithms by name (`smkit_algorithm=kmeans` or `SMKIT_ALGORITHM=kmeans`). */
const registry = new Map<string, () => Promise<Algorithm>>();

/** Registers a built-in algorithm; `load` imports it lazily so that unused algorithms cost nothing at start. */
export function registerAlgorithm(name: string, load: () => Promise<Algorithm>): void {
  registry.set(name, load);
}

/** Names of the registered algorithms, sorted. */
export function algorithmNames(): string[] {
  return [...registry.keys()].sort();
}

/** Loads a registered algorithm, or `undefined` when there is none by that name. */
export async function findAlgorithm(name: string): Promise<Algorithm | undefined> {
  const load = registry.get(name);
  return load ? load() : undefined;
}
