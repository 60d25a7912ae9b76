import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_MODEL_FILE, readBuiltinArrays } from '../../../../algorithms/builtin-model.js';
import { builtinAlgorithms, findAlgorithm } from '../../../../algorithms/index.js';
import type { Algorithm } from '../../../../algorithms/types.js';
import { InputError } from '../../../util/errors.js';
import type { ModelHandler, WorkerLoader } from '../../handler.js';
import { readModelFile } from '../../../io/small-file.js';
import type { ModelKind } from '../kind.js';
import { createPredictorHandler } from './predictor.js';

export { BUILTIN_MODEL_FILE } from '../../../../algorithms/builtin-model.js';

/** The algorithm smkit's `model.json` names (`{"algorithm": "kmeans"}`), if there is one. */
async function namedAlgorithm(modelDir: string): Promise<string | undefined> {
  const meta = path.join(modelDir, 'model.json');
  if (!existsSync(meta)) return undefined;
  try {
    const algorithm = (JSON.parse((await readModelFile(meta)).toString('utf8')) as { algorithm?: unknown })
      .algorithm;
    return typeof algorithm === 'string' ? algorithm : undefined;
  } catch {
    // Not smkit's metadata (e.g. a TF.js model next to it): let the algorithms recognise the files.
    return undefined;
  }
}

/** What the directory holds, for the message when no algorithm recognises it. */
async function describeContents(modelDir: string, algorithms: readonly Algorithm[]): Promise<string> {
  const list = await readBuiltinArrays(modelDir).catch(() => undefined);
  if (list) {
    const named = list.names.length ? ` named ${list.names.join(', ')}` : '';
    return `${path.join(modelDir, BUILTIN_MODEL_FILE)}: cannot tell which built-in algorithm wrote it (${list.arrays.length} arrays${named})`;
  }
  const files = [...new Set(algorithms.flatMap((algorithm) => algorithm.model.files))];
  return `${modelDir}: cannot tell which built-in algorithm wrote ${files.join(' or ')}`;
}

/**
 * Which of `algorithms` wrote a model directory: the one `model.json` `{"algorithm": "kmeans"}` names
 * when present; otherwise the first whose `model.recognize` says yes (SageMaker's own k-means and PCA
 * are told apart by their NDArray lists).
 */
export async function identifyBuiltinModel(
  modelDir: string,
  algorithms: readonly Algorithm[] = builtinAlgorithms,
): Promise<string> {
  const named = await namedAlgorithm(modelDir);
  if (named !== undefined) return named;
  for (const algorithm of algorithms) {
    if (await algorithm.model.recognize(modelDir)) return algorithm.name;
  }
  throw new InputError(
    `${await describeContents(modelDir, algorithms)}; expected ${algorithms.map((a) => a.model.expects).join(' or ')}`,
  );
}

/** Loads the model an algorithm of `algorithms` wrote into `modelDir`, served with every codec. */
export async function loadBuiltinModel(
  modelDir: string,
  algorithms: readonly Algorithm[] = builtinAlgorithms,
): Promise<ModelHandler> {
  const name = await identifyBuiltinModel(modelDir, algorithms);
  const algorithm = findAlgorithm(algorithms, name);
  if (!algorithm) {
    throw new InputError(
      `${modelDir} holds a ${name} model, but this smkit has no built-in ${name} algorithm`,
    );
  }
  const predictor = await algorithm.load(modelDir);
  return createPredictorHandler(name, predictor, { fieldOrder: algorithm.responseFieldOrder ?? {} });
}

/**
 * The pool-thread loader of the default list (a `WorkerLoader` export: `(modelDir, context)`); the
 * context's kinds are not algorithms, so it must not reach `loadBuiltinModel`'s second parameter.
 */
export function loadDefaultBuiltinModel(modelDir: string): Promise<ModelHandler> {
  return loadBuiltinModel(modelDir);
}

/** Options of `createBuiltinModelKind`. */
export interface BuiltinModelKindOptions {
  /**
   * How pool worker threads load the same model: a module exporting a `(modelDir) => ModelHandler`
   * that knows your algorithm list. The default list has one; a list of your own has none unless given
   * here, so its large requests are served on the HTTP thread rather than by a different model.
   */
  readonly worker?: WorkerLoader;
}

/**
 * The model kind for directories that `algorithms` write (default: the built-in k-means and PCA,
 * `model_algo-1`). Pass your own list to serve a model of an algorithm of your own.
 * @example loadServingModel(dir, { kinds: [createBuiltinModelKind([...builtinAlgorithms, myAlgorithm])] })
 */
export function createBuiltinModelKind(
  algorithms: readonly Algorithm[] = builtinAlgorithms,
  options: BuiltinModelKindOptions = {},
): ModelKind {
  const files = [...new Set(algorithms.flatMap((algorithm) => algorithm.model.files))];
  const worker =
    options.worker ??
    (algorithms === builtinAlgorithms
      ? { module: import.meta.url, exportName: 'loadDefaultBuiltinModel' }
      : undefined);
  return {
    name: 'builtin',
    marker: files.join(', '),
    ...(worker ? { worker } : {}),
    detect: async (modelDir) => {
      // Synchronous, like the other kinds' checks: a lookup on the local disk, not a turn of the loop.
      return files.some((file) => existsSync(path.join(modelDir, file)));
    },
    load: (modelDir) => loadBuiltinModel(modelDir, algorithms),
  };
}

/** The model kind for `model_algo-1` (SageMaker's or smkit's built-in k-means and PCA). */
export const builtinModelKind: ModelKind = createBuiltinModelKind();
