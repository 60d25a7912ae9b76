import { encodeNpy, parseNpyBody } from '../../io/npy.js';
import { BadRequest } from '../../util/errors.js';
import { asBadRequest } from './recordio-protobuf.js';
import type { DecodedInput, DecodeOptions, EncodeInput } from './types.js';

/** `application/x-npy` (what the SageMaker SDK's NumpySerializer sends): a 2-D array is rows, 1-D one row. */
export function decodeNpy(body: Buffer, options: DecodeOptions): DecodedInput {
  const batch = asBadRequest(() =>
    parseNpyBody(body, options.featureDim === undefined ? {} : { featureDim: options.featureDim }),
  );
  return { batch, shape: [batch.rows, batch.dim], describe: (row) => `row ${row + 1}` };
}

/**
 * `application/x-npy` answers: float32, one row per record with the fields side by side; a single
 * scalar field (one value per record) is a 1-D array, as `model.predict` returns it in NumPy.
 */
export function encodeNpyOutput(output: EncodeInput): Buffer {
  const width = output.fields.reduce((sum, f) => sum + f.width, 0);
  const data = new Float32Array(output.rows * width);
  let offset = 0;
  for (const field of output.fields) {
    const column = output.columns[field.name]!;
    if (column.length && typeof column[0] === 'string') {
      throw new BadRequest(
        `output ${field.name} holds strings, which NPY answers cannot carry; ask for application/json`,
      );
    }
    for (let r = 0; r < output.rows; r++) {
      for (let i = 0; i < field.width; i++)
        data[r * width + offset + i] = column[r * field.width + i] as number;
    }
    offset += field.width;
  }
  const single = output.fields.length === 1 && output.fields[0]!.scalar && width === 1;
  return encodeNpy({ dtype: 'float32', shape: single ? [output.rows] : [output.rows, width], data });
}
