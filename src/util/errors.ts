/**
 * An error whose message is meant for the user: it says what was wrong and what to do.
 * The training runner writes `message` to /opt/ml/output/failure without a stack trace.
 */
export class SmkitError extends Error {
  override readonly name: string = 'SmkitError';
}

/** Bad configuration or input data (a config file, a channel, a hyperparameter). */
export class InputError extends SmkitError {
  override readonly name: string = 'InputError';
}

/** An error that carries the HTTP status a request should be answered with. */
export class HttpError extends SmkitError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the body could not be decoded or does not fit the model. */
export class BadRequest extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 415: the Content-Type has no decoder. */
export class UnsupportedMediaType extends HttpError {
  constructor(message: string) {
    super(415, message);
  }
}

/** 406: no encoder satisfies the Accept header. */
export class NotAcceptable extends HttpError {
  constructor(message: string) {
    super(406, message);
  }
}

/** 413: the body is over the payload limit. */
export class PayloadTooLarge extends HttpError {
  constructor(message: string) {
    super(413, message);
  }
}

/** The message of anything thrown, without a stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
