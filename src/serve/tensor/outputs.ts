/**
 * Turns model outputs (host tensors) into rows for the response encoders: one row per entry of the batch
 * dimension, one field per output. `{"predictions": [{"label": 2, "probabilities": [0.1, 0.3, 0.6]}]}`
 * in JSON, the same objects one per line in JSON Lines, the fields side by side in CSV.
 */
import { SmkitError } from '../../util/errors.js';
import { formatShape, type NamedTensors, sizeOf, type TensorData } from './tensor.js';

/** One output column (the serve codecs' `OutputField`, structurally). */
export interface OutputColumn {
  readonly name: string;
  readonly width: number;
  readonly scalar: boolean;
}

/** Rows ready for an encoder (the serve codecs' `EncodeInput`, structurally). */
export interface OutputRows {
  readonly rows: number;
  readonly fields: readonly OutputColumn[];
  readonly columns: Readonly<Record<string, ArrayLike<number>>>;
  readonly rootKey: string;
}

/** The JSON root key of ONNX and TF.js responses, as SageMaker's TensorFlow containers answer. */
export const TENSOR_ROOT_KEY = 'predictions';

/**
 * Lays outputs out as rows: every output must share the batch (first) dimension; inner dimensions are
 * flattened row-major (a `[n, 2, 3]` output gives each row a list of 6 values).
 */
export function outputRows(
  outputs: NamedTensors,
  names: readonly string[] = Object.keys(outputs),
): OutputRows {
  const first = outputs[names[0]!];
  const rows = first && first.shape.length > 0 ? first.shape[0]! : 1;
  const fields: OutputColumn[] = [];
  const columns: Record<string, ArrayLike<number>> = {};
  for (const name of names) {
    const tensor = outputs[name]!;
    const batch = tensor.shape.length > 0 ? tensor.shape[0]! : 1;
    if (batch !== rows) {
      throw new SmkitError(
        `output '${name}' has shape ${formatShape(tensor.shape)}, which does not share the batch dimension ` +
          `(${rows}) of output '${names[0]}'; smkit returns outputs row by row`,
      );
    }
    const width = rows === 0 ? sizeOf(tensor.shape.slice(1)) : tensor.data.length / rows;
    fields.push({ name, width, scalar: tensor.shape.length <= 1 });
    columns[name] = jsonReady(tensor.data);
  }
  return { rows, fields, columns, rootKey: TENSOR_ROOT_KEY };
}

/** int64 widened to numbers; float32 rounded to the decimals numpy prints (typed arrays may come from another realm). */
function jsonReady(data: TensorData): ArrayLike<number> {
  const kind = (data as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
  if (kind === 'BigInt64Array') return Float64Array.from(data as BigInt64Array, Number);
  if (kind === 'Float32Array') return Float64Array.from(data as Float32Array, shortestFloat32);
  return data as ArrayLike<number>;
}

/**
 * The shortest decimal that reads back as the same float32, as numpy prints float32 values: 0.7, not
 * 0.699999988079071 (the float32 nearest 0.7 widened to float64).
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  for (let digits = 6; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
