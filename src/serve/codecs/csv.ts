import { parseCsvBody } from '../../io/csv.js';
import { BadRequest } from '../../util/errors.js';
import { floatsFor } from './recycled-floats.js';
import { asBadRequest } from './recordio-protobuf.js';
import type { DecodedInput, DecodeOptions } from './types.js';

/**
 * `text/csv`: one headerless numeric row per line; `label_size=N` drops N leading label columns.
 * The first row decides the width; other widths fail naming their line.
 */
export function decodeCsv(body: Buffer, options: DecodeOptions): DecodedInput {
  const labelText = options.media.params.get('label_size');
  const labelSize = labelText === undefined ? 0 : Number(labelText);
  if (!Number.isInteger(labelSize) || labelSize < 0) {
    throw new BadRequest(`Content-Type parameter label_size=${labelText} must be an integer >= 0`);
  }
  // The model's width is checked with every other codec's (validate.ts), not here; a blank body is
  // no records, answered there too.
  const batch = isBlank(body)
    ? { rows: 0, dim: 0, values: new Float32Array(0) }
    : asBadRequest(() => parseCsvBody(body, { labelSize, allocate: floatsFor(body) }));
  return { batch, shape: [batch.rows, batch.dim], describe: (row) => `line ${row + 1}` };
}

/** True when the body holds only whitespace (looks at bytes up to the first other one). */
function isBlank(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte !== 0x0a && byte !== 0x0d && byte !== 0x20 && byte !== 0x09) return false;
  }
  return true;
}
