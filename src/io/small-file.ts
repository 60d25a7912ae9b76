/** Reading a model's small files without waiting turns of a busy event loop. */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Files up to this size are read synchronously by `readModelFile`. */
export const SYNC_READ_MAX_BYTES = 1024 * 1024;

/**
 * Reads a model file: at once when it is small (at most `SYNC_READ_MAX_BYTES`), asynchronously
 * otherwise. An asynchronous read is an open, a stat, reads and a close, each a trip to libuv's thread
 * pool and a turn of the event loop; on a busy multi-model endpoint each turn waits behind other
 * requests, and a cold model's load is on its first invocation's path. A small read from the local
 * disk takes microseconds; a large one stays asynchronous so it does not hold /ping. Rejects as
 * `fs.readFile` does (ENOENT, EISDIR).
 */
export async function readModelFile(file: string): Promise<Buffer> {
  const size = statSync(file).size;
  return size <= SYNC_READ_MAX_BYTES ? readFileSync(file) : readFile(file);
}
