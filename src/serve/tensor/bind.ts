/**
 * Maps a decoded request body onto a model's declared inputs: names, shapes and element types.
 */
import { BadRequest } from '../../util/errors.js';
import {
  fitToSpec,
  formatShape,
  type HostTensor,
  isHostTensor,
  type NamedTensors,
  type TensorSpec,
  tensorFromNested,
} from './tensor.js';

/** A dense float32 tensor as the request codecs produce it. */
export interface DecodedTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What a request codec hands over (the serve codecs' `DecodedInput`, structurally). */
export interface DecodedBody {
  /** The body's values with the full shape it carried (`[n, d]` from CSV, `[n, 28, 28]` from NPY). */
  readonly batch: { readonly values: Float32Array };
  readonly shape: readonly number[];
  /** Named inputs, from `{"inputs": {"name": [...]}}`. */
  readonly named?: Readonly<Record<string, DecodedTensor>>;
}

function hostTensor(shape: readonly number[], values: Float32Array): HostTensor {
  return { type: 'float32', shape, data: values };
}

function describeInputs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `'${s.name}' ${formatShape(s.shape)}`).join(', ');
}

/**
 * Fits a decoded body to the model inputs. A body without names feeds a single-input model; named
 * inputs must match the model's input names exactly. Throws BadRequest naming the expected inputs.
 * @example bindInputs([{ name: 'x', type: 'float32', shape: ['N', 3] }], decodedCsv) // { x: [n, 3] }
 */
export function bindInputs(specs: readonly TensorSpec[], body: DecodedBody): NamedTensors {
  const feeds: Record<string, HostTensor> = {};
  const named = body.named;
  if (named) {
    const unknown = Object.keys(named).filter((name) => !specs.some((s) => s.name === name));
    const missing = specs.filter((s) => !(s.name in named)).map((s) => s.name);
    if (unknown.length > 0 || missing.length > 0) {
      const problems = [
        unknown.length > 0 ? `unknown input ${unknown.map((n) => `'${n}'`).join(', ')}` : '',
        missing.length > 0 ? `missing input ${missing.map((n) => `'${n}'`).join(', ')}` : '',
      ].filter(Boolean);
      throw new BadRequest(`${problems.join('; ')}: the model takes ${describeInputs(specs)}`);
    }
    for (const spec of specs) {
      const tensor = named[spec.name]!;
      feeds[spec.name] = fitToSpec(hostTensor(tensor.shape, tensor.values), spec);
    }
    return feeds;
  }
  if (specs.length !== 1) {
    const example = specs.map((s) => `"${s.name}": [...]`).join(', ');
    throw new BadRequest(
      `the model takes ${specs.length} inputs (${describeInputs(specs)}): send JSON {"inputs": {${example}}}`,
    );
  }
  const spec = specs[0]!;
  feeds[spec.name] = fitToSpec(hostTensor(body.shape, body.batch.values), spec);
  return feeds;
}

/** Whether a value is what the request codecs decode (`{ batch, shape, named? }`). */
export function isDecodedBody(value: unknown): value is DecodedBody {
  return typeof value === 'object' && value !== null && 'batch' in value && 'shape' in value;
}

/**
 * Fits whatever an `inputFn` returned to the model inputs: a decoded body, host tensors, nested number
 * arrays for a single-input model, or `{ name: nested array | host tensor }` for named inputs.
 */
export function feedsFromValue(specs: readonly TensorSpec[], value: unknown): NamedTensors {
  if (isDecodedBody(value)) return bindInputs(specs, value);
  const toTensor = (item: unknown, name: string) =>
    isHostTensor(item) ? item : tensorFromNested(item, name);
  if (Array.isArray(value) || ArrayBuffer.isView(value) || isHostTensor(value)) {
    const only = specs.length === 1 ? specs[0]! : undefined;
    if (!only) {
      throw new BadRequest(
        `inputFn returned one tensor, but the model takes ${describeInputs(specs)}: return { name: values }`,
      );
    }
    return {
      [only.name]: fitToSpec(
        toTensor(ArrayBuffer.isView(value) ? Array.from(value as Float32Array) : value, 'input'),
        only,
      ),
    };
  }
  if (typeof value !== 'object' || value === null) {
    throw new BadRequest(
      `inputFn returned ${value === null ? 'null' : typeof value}; return number arrays or { name: values }`,
    );
  }
  const record = value as Record<string, unknown>;
  const feeds: Record<string, HostTensor> = {};
  for (const spec of specs) {
    if (!(spec.name in record)) {
      throw new BadRequest(`inputFn returned no '${spec.name}': the model takes ${describeInputs(specs)}`);
    }
    feeds[spec.name] = fitToSpec(toTensor(record[spec.name], spec.name), spec);
  }
  return feeds;
}
