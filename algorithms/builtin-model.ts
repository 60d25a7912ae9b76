import path from 'node:path';
import { decodeNDArrayList, type NDArrayList } from '../src/io/mxnet-ndarray.js';
import { readModelFile } from '../src/io/small-file.js';

/** The artifact SageMaker's built-in algorithms (and smkit's) write: an MXNet NDArray list. */
export const BUILTIN_MODEL_FILE = 'model_algo-1';

/**
 * The NDArray list in `modelDir`'s `model_algo-1`, for telling which algorithm wrote it; `undefined`
 * when there is no such file. A file that is not an NDArray list fails naming it.
 */
export async function readBuiltinArrays(modelDir: string): Promise<NDArrayList | undefined> {
  const file = path.join(modelDir, BUILTIN_MODEL_FILE);
  const bytes = await readModelFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return bytes && decodeNDArrayList(bytes, file);
}
