import http from 'node:http';

/** A whole HTTP answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string | undefined;
}

/** One request: method (GET unless a body is given), headers, body, and when to give up. */
export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: Buffer;
  /** Reject after this long without a byte from the server (no limit when unset). */
  readonly timeoutMs?: number;
  /** Aborting destroys the request; the promise rejects with the abort error. */
  readonly signal?: AbortSignal;
  /**
   * Called once the whole body has been handed to the operating system, before the answer: from then on
   * the request no longer reads `body`, so its memory may carry something else. Not called when the
   * request fails first.
   */
  readonly onBodySent?: () => void;
}

/**
 * Sends one request and reads the whole answer: the one HTTP client of smkit's own requests (the AWS SDK
 * keeps its own). Rejects on network errors (with Node's `code`, such as ECONNREFUSED), on abort, or
 * after `timeoutMs` of silence.
 */
export function send(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const { body, timeoutMs, signal } = options;
  const method = options.method ?? (body ? 'POST' : 'GET');
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: options.headers ?? {}, ...(timeoutMs ? { timeout: timeoutMs } : {}), signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            contentType: res.headers['content-type'],
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${(timeoutMs ?? 0) / 1000} s`)));
    req.on('error', reject);
    if (options.onBodySent) req.once('finish', options.onBodySent);
    req.end(body);
  });
}
