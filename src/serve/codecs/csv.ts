import { parseCsvBody } from '../../io/csv.js';
import { BadRequest } from '../../util/errors.js';
import { asBadRequest } from './recordio-protobuf.js';
import type { DecodedInput, DecodeOptions } from './types.js';

/**
 * `text/csv`: one headerless numeric row per line; `label_size=N` drops N leading label columns.
 * Without a model width, the first row decides and other widths fail naming their line.
 */
export function decodeCsv(body: Buffer, options: DecodeOptions): DecodedInput {
  const labelText = options.media.params.get('label_size');
  const labelSize = labelText === undefined ? 0 : Number(labelText);
  if (!Number.isInteger(labelSize) || labelSize < 0) {
    throw new BadRequest(`Content-Type parameter label_size=${labelText} must be an integer >= 0`);
  }
  const batch = asBadRequest(() =>
    parseCsvBody(
      body,
      options.featureDim === undefined ? { labelSize } : { labelSize, featureDim: options.featureDim },
    ),
  );
  return { batch, shape: [batch.rows, batch.dim], describe: (row) => `line ${row + 1}` };
}
