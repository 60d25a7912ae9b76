/**
 * Host-side tensors: the shape every non-built-in handler speaks. Request decoders produce them,
 * ONNX and TensorFlow.js runtimes consume and produce them, response encoders write them.
 */
import { BadRequest } from '../../util/errors.js';

/** Element types the handlers exchange with a model. */
export type ElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool';

/** The typed array behind each element type (bool is stored as 0/1 bytes, like onnxruntime does). */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

/** A dense, row-major tensor in host memory. */
export interface HostTensor {
  readonly type: ElementType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Tensors by name: a model's inputs or outputs. */
export type NamedTensors = Readonly<Record<string, HostTensor>>;

/** A dimension as a model declares it: a size, or a name / null / -1 for a dynamic one (usually the batch). */
export type DeclaredDim = number | string | null;

/** One input or output as declared by the model. */
export interface TensorSpec {
  readonly name: string;
  readonly type: ElementType;
  /** Empty when the model does not declare a shape. */
  readonly shape: readonly DeclaredDim[];
}

const SUPPORTED: readonly ElementType[] = ['float32', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool'];

/** Whether a runtime's type name is one the handlers can feed. */
export function isElementType(type: string): type is ElementType {
  return (SUPPORTED as readonly string[]).includes(type);
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/** Allocates zeroed storage for `size` elements of `type`. */
export function allocate(type: ElementType, size: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int8':
      return new Int8Array(size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(size);
  }
}

const RANGES: Partial<Record<ElementType, readonly [number, number]>> = {
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int8: [-128, 127],
  uint8: [0, 255],
  bool: [0, 1],
};

/**
 * Checks that `value` fits `type` and returns it as stored; `where` names the element for the message.
 * Integer types refuse fractions rather than truncating them silently.
 */
function checked(value: number, type: ElementType, where: () => string): number {
  if (type === 'float32' || type === 'float64') return value;
  const range = RANGES[type]!;
  if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
    throw new BadRequest(
      `${where()} is ${value}, but the model takes ${type}: send integers in [${range[0]}, ${range[1]}]`,
    );
  }
  return value;
}

/**
 * Converts a tensor to another element type, checking integer ranges.
 * `name` names the input in messages ("input 'x' element 7 is 1.5, but the model takes int64 ...").
 */
export function convertTensor(tensor: HostTensor, type: ElementType, name: string): HostTensor {
  if (tensor.type === type) return tensor;
  const size = tensor.data.length;
  const out = allocate(type, size);
  const source = tensor.data;
  const where = (i: number) => () => `input '${name}' element ${i}`;
  if (type === 'int64') {
    for (let i = 0; i < size; i++)
      (out as BigInt64Array)[i] = BigInt(checked(Number(source[i]!), type, where(i)));
  } else if (type === 'float32' || type === 'float64') {
    for (let i = 0; i < size; i++) out[i] = Number(source[i]!);
  } else {
    for (let i = 0; i < size; i++) out[i] = checked(Number(source[i]!), type, where(i));
  }
  return { type, shape: tensor.shape, data: out };
}

/** Most dimensions a nested list may have (deeper values would exhaust the stack of the walk below). */
const MAX_NESTED_DIMS = 64;

/**
 * Reads a nested JSON array (or a single number) into a float64 tensor, checking that it is rectangular.
 * `path` names the value in messages, e.g. `inputs.x`.
 * @example tensorFromNested([[1, 2], [3, 4]], 'instances') // shape [2, 2]
 */
export function tensorFromNested(value: unknown, path: string): HostTensor {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (shape.length > MAX_NESTED_DIMS) {
      throw new BadRequest(
        `${path} nests lists more than ${MAX_NESTED_DIMS} levels deep; a tensor needs one per dimension`,
      );
    }
    if (probe.length === 0) break;
    probe = probe[0];
  }
  // Checked before allocating: the shape comes from the first items only, so a ragged value could
  // otherwise declare far more elements than it holds.
  let data: Float64Array | undefined;
  let offset = 0;
  const walk = (node: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      const number = typeof node === 'boolean' ? Number(node) : node;
      if (typeof number !== 'number')
        throw new BadRequest(`${where} must be a number (got ${describe(node)})`);
      if (data) data[offset++] = number;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new BadRequest(
        `${where} must be a list of ${shape[depth]} items like its siblings (got ${describe(node)}): ` +
          'tensors must be rectangular',
      );
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${where}[${i}]`);
  };
  walk(value, 0, path);
  data = new Float64Array(sizeOf(shape));
  walk(value, 0, path);
  return { type: 'float64', shape, data };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value;
}

/** Whether a value is a host tensor (`{ type, shape, data }` with a typed array). */
export function isHostTensor(value: unknown): value is HostTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'shape' in value &&
    'type' in value &&
    'data' in value &&
    ArrayBuffer.isView((value as HostTensor).data)
  );
}

/** Whether a value is a non-empty map of host tensors. */
export function isNamedTensors(value: unknown): value is NamedTensors {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value))
    return false;
  const entries = Object.values(value);
  return entries.length > 0 && entries.every(isHostTensor);
}

/** Element `i` of a tensor as a JSON-ready number (int64 beyond 2^53 loses precision, as in JSON anyway). */
export function elementAt(tensor: HostTensor, i: number): number {
  return Number(tensor.data[i]!);
}

/** The tensor as nested arrays, the JSON form (`[[1, 2], [3, 4]]`; a scalar for shape []). */
export function tensorToNested(tensor: HostTensor): unknown {
  return nestedSlice(tensor, 0, 0);
}

function nestedSlice(tensor: HostTensor, depth: number, offset: number): unknown {
  if (depth === tensor.shape.length) return elementAt(tensor, offset);
  const dim = tensor.shape[depth]!;
  const stride = sizeOf(tensor.shape.slice(depth + 1));
  const out = new Array<unknown>(dim);
  for (let i = 0; i < dim; i++) out[i] = nestedSlice(tensor, depth + 1, offset + i * stride);
  return out;
}

/** `[batch, 3]` for messages. */
export function formatShape(shape: readonly DeclaredDim[]): string {
  return `[${shape.map((d) => (d === null || d === -1 ? '?' : String(d))).join(', ')}]`;
}

function isDynamic(dim: DeclaredDim): boolean {
  return typeof dim !== 'number' || dim < 0;
}

/**
 * Fits a decoded tensor to an input spec: adds a missing batch dimension, unflattens `[rows, n]` into the
 * declared fixed dimensions, checks every fixed dimension and converts the element type.
 * Throws BadRequest naming the expected shape otherwise.
 */
export function fitToSpec(tensor: HostTensor, spec: TensorSpec): HostTensor {
  let shaped = tensor;
  const declared = spec.shape;
  if (declared.length > 0) {
    if (shaped.shape.length === declared.length - 1) {
      shaped = { ...shaped, shape: [1, ...shaped.shape] };
    } else if (
      shaped.shape.length === 2 &&
      declared.length > 2 &&
      declared.slice(1).every((d) => !isDynamic(d))
    ) {
      const inner = declared.slice(1) as number[];
      if (shaped.shape[1] === sizeOf(inner)) shaped = { ...shaped, shape: [shaped.shape[0]!, ...inner] };
    }
    const mismatch =
      shaped.shape.length !== declared.length ||
      declared.some((dim, i) => !isDynamic(dim) && dim !== shaped.shape[i]);
    if (mismatch) {
      const width =
        declared.length === 2 && !isDynamic(declared[1]!) ? `: each record needs ${declared[1]} values` : '';
      throw new BadRequest(
        `input '${spec.name}' expects shape ${formatShape(declared)} (got ${formatShape(tensor.shape)})${width}`,
      );
    }
  }
  return convertTensor(shaped, spec.type, spec.name);
}
