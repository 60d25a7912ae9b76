import type { IncomingMessage } from 'node:http';
import { PayloadTooLarge } from '../util/errors.js';

function tooLarge(limit: number): PayloadTooLarge {
  const mb = limit / (1024 * 1024);
  return new PayloadTooLarge(
    `the body is larger than ${Number.isInteger(mb) ? mb : mb.toFixed(2)} MiB; ` +
      'send smaller requests or raise SAGEMAKER_MAX_PAYLOAD_IN_MB (0 = no limit)',
  );
}

/**
 * Reads a whole request body, fixed-length or chunked, without a framework parser.
 * Rejects with 413 as soon as the declared or received size passes `limit` bytes (0 = no limit);
 * the caller then answers and closes the connection instead of reading the rest.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (limit > 0 && declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      if (first === undefined) {
        first = chunk;
      } else {
        chunks ??= [first];
        chunks.push(chunk);
      }
    };
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      req.off('error', onError);
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
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
