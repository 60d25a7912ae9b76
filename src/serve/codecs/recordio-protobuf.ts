import { floatsFor } from './recycled-floats.js';
import { encodeLabelRecords, parseRecordIOProtobufBody } from '../../io/recordio-protobuf.js';
import { BadRequest, InputError } from '../../util/errors.js';
import type { DecodedInput, DecodeOptions, EncodeInput } from './types.js';

/** Runs a byte-level parser, turning its InputError (file/line/record named) into a 400. */
export function asBadRequest<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError) throw new BadRequest(error.message);
    throw error;
  }
}

/** `application/x-recordio-protobuf`: one Record per row, dense or sparse `values` features. */
export function decodeRecordIOProtobuf(body: Buffer, options: DecodeOptions): DecodedInput {
  const allocate = floatsFor(body);
  const batch = asBadRequest(() =>
    parseRecordIOProtobufBody(
      body,
      // The values go straight to requireFinite: a decoder that saw them all finite spares its scan.
      options.featureDim === undefined
        ? { allocate, markFinite: true }
        : { featureDim: options.featureDim, allocate, markFinite: true },
    ),
  );
  return { batch, shape: [batch.rows, batch.dim], describe: (row) => `record ${row + 1}` };
}

/**
 * `application/x-recordio-protobuf` answers as SageMaker's built-in algorithms give them: one Record
 * per row, no features, `label = {field: float32[width]}`.
 */
export function encodeRecordIOProtobuf(output: EncodeInput): Buffer {
  const columns: Record<string, Float32Array> = {};
  for (const field of output.fields) {
    const column = output.columns[field.name]!;
    if (column instanceof Float32Array) {
      columns[field.name] = column;
    } else if (column.length && typeof column[0] === 'string') {
      throw new BadRequest(
        `output ${field.name} holds strings, which RecordIO-protobuf cannot carry; ask for application/json`,
      );
    } else {
      columns[field.name] = Float32Array.from(column as ArrayLike<number>);
    }
  }
  return encodeLabelRecords(output.rows, columns);
}
