/**
 * Request validation, in one place with one message per problem whatever the codec: every decoded
 * body is checked for records here (`chooseDecoder`), and a fixed-width model's rows for width and
 * finiteness. Decoders only check what their format itself requires (well-formed, rows of one width).
 */
import { isMarkedFinite, markFinite } from '../io/finite-mark.js';
import { BadRequest } from '../util/errors.js';
import type { DecodedInput } from './codecs/types.js';

/** The 400 for a body without records. */
export const NO_RECORDS = 'the body holds no records; send at least one row';

/** Throws 400 when the body decoded to no records (named inputs are checked by the model's binding). */
export function requireRecords(input: DecodedInput): void {
  if (!input.named && input.batch.rows === 0) throw new BadRequest(NO_RECORDS);
}

/** Throws 400 when the rows are not `featureDim` wide. */
export function requireWidth(input: DecodedInput, featureDim: number): void {
  const { rows, dim } = input.batch;
  if (rows === 0) throw new BadRequest(NO_RECORDS);
  if (dim !== featureDim) {
    throw new BadRequest(
      `${input.describe(0)} has ${dim} values, but the model expects ${featureDim} features per record`,
    );
  }
}

/**
 * Throws 400 naming the row and column of the first value that is not a finite number. Values a
 * decoder already saw to be finite are not scanned again; scanned ones are marked for the model's
 * own check (`finite-mark.ts`).
 */
export function requireFinite(input: DecodedInput): void {
  const { values, dim } = input.batch;
  if (isMarkedFinite(values)) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / dim);
      throw new BadRequest(
        `${input.describe(row)}, value ${(i % dim) + 1}: ${v} is not allowed; send finite numbers ` +
          '(values beyond float32 range become Infinity)',
      );
    }
  }
  markFinite(values);
}
