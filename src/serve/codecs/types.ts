import type { RecordBatch } from '../../io/records.js';
import type { MediaType } from '../negotiate.js';

/** A dense tensor: row-major float32 values of a given shape. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** A decoded request body. */
export interface DecodedInput {
  /** The records as dense rows: rows = shape[0], dim = product of the other dimensions. */
  readonly batch: RecordBatch;
  /** The full shape the body carried (`[n, 28, 28]` from an npy body; `[n, d]` from CSV). */
  readonly shape: readonly number[];
  /** Named inputs, from a JSON body `{"inputs": {"name": [...]}}`. */
  readonly named?: Readonly<Record<string, Tensor>>;
  /** Names a row for error messages: `line 3` (CSV), `instance 3` (JSON), `record 3` (RecordIO). */
  describe(row: number): string;
}

/** What a decoder needs besides the bytes. */
export interface DecodeOptions {
  readonly media: MediaType;
  /** The model's input width when it has one: sparse rows without a shape use it. */
  readonly featureDim?: number;
}

/** One named output column, e.g. `closest_cluster` (width 1, scalar) or `projection` (width n). */
export interface OutputField {
  readonly name: string;
  readonly width: number;
  /** Serialize width-1 values as a number rather than a one-element list. */
  readonly scalar: boolean;
}

/** Model outputs for a batch, one column per field, `rows` x `field.width` values each. */
export interface EncodeInput {
  readonly rows: number;
  readonly fields: readonly OutputField[];
  readonly columns: Readonly<Record<string, ArrayLike<number> | readonly string[]>>;
  /** JSON response root: `{"predictions": [...]}`; each row an object keyed by field name. */
  readonly rootKey: string;
}

/** Turns a body into records; throws BadRequest naming the line/record on malformed input. */
export type Decoder = (body: Buffer, options: DecodeOptions) => DecodedInput;

/** Turns outputs into a response body. */
export type Encoder = (output: EncodeInput) => Buffer | string;
