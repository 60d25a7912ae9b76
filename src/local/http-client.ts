import http from 'node:http';

/** A whole HTTP answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string | undefined;
}

/** Sends one request and reads the whole answer; rejects on network errors or after `timeoutMs` of silence. */
export function send(
  url: string,
  method: string,
  body: Buffer | undefined,
  headers: http.OutgoingHttpHeaders,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: timeoutMs }, (res) => {
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
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
