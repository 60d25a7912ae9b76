import type { IncomingMessage } from 'node:http';
import { PayloadTooLarge } from '../util/errors.js';

/** Options of `readBody`. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes (0 = no limit). */
  readonly limit: number;
  /** The error to reject with once the body passes `limit` (default: a 413 `PayloadTooLarge`). */
  readonly tooLarge?: (limit: number) => Error;
}

/** Declared bodies from this size on are read into one buffer allocated up front. */
const PREALLOCATE_MIN_BYTES = 64 * 1024;

function payloadTooLarge(limit: number): PayloadTooLarge {
  return new PayloadTooLarge(`the body is larger than ${limit} bytes`);
}

/**
 * Reads a whole HTTP body (request or response), fixed-length or chunked: the one body reader of the
 * serving app, the local endpoint's limit proxy and the training cluster's exchange. Rejects with
 * `tooLarge(limit)` as soon as the declared or received size passes `limit`, and stops reading; the
 * caller then answers and closes, drains (`resume()`) or destroys the stream as it needs.
 * @example const body = await readBody(req, { limit: 6 * 1024 * 1024 });
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { limit } = options;
  const tooLarge = options.tooLarge ?? payloadTooLarge;
  const declared = req.headers['content-length'];
  if (limit > 0 && declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  // A large declared body is copied piece by piece into its own buffer as it comes: node's 64 KiB pieces
  // are garbage at once instead of all living until a concatenation at the end (a second copy of the body).
  const length = declared === undefined ? Number.NaN : Number(declared);
  // Only under a limit: without one, a declared length is not checked against anything before allocating.
  let whole =
    limit > 0 && Number.isInteger(length) && length >= PREALLOCATE_MIN_BYTES
      ? Buffer.allocUnsafe(length)
      : undefined;
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      if (limit > 0 && size + chunk.length > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        whole = undefined;
        reject(tooLarge(limit));
        return;
      }
      if (whole && size + chunk.length <= whole.length) {
        chunk.copy(whole, size);
      } else if (whole) {
        // More than declared (node's parser does not let that happen): keep the pieces instead.
        first = whole.subarray(0, size);
        chunks = [first, chunk];
        whole = undefined;
      } else if (first === undefined) {
        first = chunk;
      } else {
        chunks ??= [first];
        chunks.push(chunk);
      }
      size += chunk.length;
    };
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      req.off('error', onError);
      if (whole) resolve(size === whole.length ? whole : whole.subarray(0, size));
      else resolve(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
    };
    const onError = (error: Error): void => reject(error);
    // A connection closed mid-body (a client gone, or a trickling body cut off by the timeout) must
    // settle the read too, or the invocation would count as in flight forever and stall the drain.
    const onClose = (): void => {
      if (!ended) reject(new Error('the connection closed before the body ended'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}
