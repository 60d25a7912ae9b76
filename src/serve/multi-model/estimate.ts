/** How much memory a model will hold once loaded, estimated from its files before loading it. */
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * What every loaded model costs besides its bytes: the handler, its codecs, a session's bookkeeping.
 * Measured by `npm run bench:mme`: 1,000 k-means models added about 173 MiB of RSS (about 170 KiB each).
 */
export const MODEL_OVERHEAD_BYTES = 160 * 1024;

/**
 * Loaded models hold their weights about this many times over (the file read, the decoded arrays or
 * onnxruntime's copy and its arena), measured on the k-means and small ONNX models of the tests.
 */
export const FILE_BYTES_FACTOR = 3;

/**
 * Total size of the regular files under `dir` (symbolic links are not followed). Synchronous, as
 * `resolveModelUrl` is: a model directory's metadata is a few lookups on the local disk, each of which
 * would otherwise wait a turn of a busy event loop.
 */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(file);
    else if (entry.isFile()) total += lstatSync(file).size;
  }
  return total;
}

/**
 * The memory a model in `dir` is charged against the budget: `FILE_BYTES_FACTOR` x its file bytes plus
 * `MODEL_OVERHEAD_BYTES`. An estimate made before loading, so a load that cannot fit is refused (507)
 * before it allocates anything; RSS deltas would be measured after the fact and are blurred by
 * concurrent loads and the garbage collector.
 */
export async function estimateModelBytes(dir: string): Promise<number> {
  return MODEL_OVERHEAD_BYTES + FILE_BYTES_FACTOR * directoryBytes(dir);
}
