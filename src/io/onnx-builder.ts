import protobuf from 'protobufjs';

/**
 * A small builder for ONNX models (the `onnx.ModelProto` protobuf), enough to express the
 * built-in algorithms' inference graphs (Gemm/MatMul, ArgMin, ReduceMin, Sqrt, Sub, ...) so that
 * any ONNX runtime can run a model smkit trained.
 *
 * @example
 *   const g = new OnnxGraphBuilder('kmeans');
 *   const x = g.input('features', 'float32', ['N', 4]);
 *   const c = g.initializer('centroids', { type: 'float32', dims: [3, 4], data: centroids });
 *   const [y] = g.node('MatMul', [x, g.node('Transpose', [c])[0]!]);
 *   g.output(y!, 'float32', ['N', 3]);
 *   const bytes = g.build();
 */

/** ONNX tensor element types used by smkit (`onnx.TensorProto.DataType`). */
export type OnnxElementType = 'float32' | 'float64' | 'int32' | 'int64';

const ELEMENT_TYPE: Record<OnnxElementType, number> = { float32: 1, int32: 6, int64: 7, float64: 11 };

/** A dimension: a fixed size, or a symbolic name such as `'N'` for the batch size. */
export type OnnxDim = number | string;

/** A constant tensor (an initializer, or a `value` attribute of `Constant`). */
export interface OnnxTensor {
  readonly type: OnnxElementType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | readonly number[];
}

/** A node attribute value; build them with `attr.int(...)`, `attr.float(...)`, ... */
export type OnnxAttribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: OnnxTensor };

/** Attribute constructors: ONNX distinguishes int from float, which JS numbers cannot. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value }),
  tensor: (value: OnnxTensor): OnnxAttribute => ({ kind: 'tensor', value }),
};

/** Options for `OnnxGraphBuilder.build`. */
export interface OnnxBuildOptions {
  /** Default-domain opset version; 17 is supported by onnxruntime >= 1.13 and by onnx >= 1.12. */
  readonly opset?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** `metadata_props` of the model (string key/value pairs, shown by Netron and readable by runtimes). */
  readonly metadata?: Readonly<Record<string, string>>;
}

// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that smkit writes.
const ONNX_PROTO = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
      },
    },
  },
};

const ModelProto = protobuf.Root.fromJSON(ONNX_PROTO).lookupType('onnx.ModelProto');

// AttributeProto.AttributeType values.
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** IR version that goes with each opset (onnx/helper.py VERSION_TABLE), so older runtimes accept the file. */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function tensorProto(name: string, tensor: OnnxTensor): Record<string, unknown> {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) {
    throw new Error(
      `onnx tensor '${name}': dims ${tensor.dims.join('x')} do not hold ${tensor.data.length} values`,
    );
  }
  let typed: ArrayBufferView;
  if (ArrayBuffer.isView(tensor.data)) typed = tensor.data;
  else if (tensor.type === 'float32') typed = Float32Array.from(tensor.data);
  else if (tensor.type === 'float64') typed = Float64Array.from(tensor.data);
  else if (tensor.type === 'int32') typed = Int32Array.from(tensor.data);
  else typed = BigInt64Array.from(tensor.data, (v) => BigInt(v));
  // raw_data is little-endian, which is what typed arrays hold on every platform Node runs on.
  const rawData = new Uint8Array(typed.byteLength);
  rawData.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
  return { name, dims: [...tensor.dims], dataType: ELEMENT_TYPE[tensor.type], rawData };
}

function valueInfo(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: OnnxAttribute): Record<string, unknown> {
  const type = ATTRIBUTE_TYPE[value.kind];
  switch (value.kind) {
    case 'int':
      return { name, type, i: value.value };
    case 'float':
      return { name, type, f: value.value };
    case 'string':
      return { name, type, s: new TextEncoder().encode(value.value) };
    case 'ints':
      return { name, type, ints: [...value.value] };
    case 'floats':
      return { name, type, floats: [...value.value] };
    case 'tensor':
      return { name, type, t: tensorProto(name, value.value) };
  }
}

/**
 * Builds one ONNX graph: declare inputs, constants and nodes in order, mark outputs, then `build()`.
 * Node outputs get unique generated names unless given; every method returns the value names to wire on.
 */
export class OnnxGraphBuilder {
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A value name starting with `hint` that is not used yet (not reserved: pass it to a method that declares it). */
  unique(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    return name;
  }

  private fresh(hint: string): string {
    return this.claim(this.unique(hint));
  }

  private claim(name: string): string {
    if (this.used.has(name))
      throw new Error(`onnx graph '${this.name}': value name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input; returns its name. */
  input(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, shape));
    return name;
  }

  /** Adds a constant (stored as an initializer); returns its name. */
  initializer(name: string, tensor: OnnxTensor): string {
    this.initializers.push(tensorProto(this.claim(name), tensor));
    return name;
  }

  /** A float32 constant of the given dims (a scalar when `dims` is empty). */
  constant(hint: string, data: readonly number[] | Float32Array, dims: readonly number[]): string {
    return this.initializer(this.unique(hint), { type: 'float32', dims, data });
  }

  /** An int64 constant, e.g. the `axes` or `shape` input of Reduce*, Reshape, Unsqueeze. */
  int64s(hint: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    return this.initializer(this.unique(hint), { type: 'int64', dims, data });
  }

  /**
   * Adds a node. `outputs` is a number of outputs to name automatically (default 1) or explicit names.
   * Returns the output names.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    const names =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.fresh(`${opType.toLowerCase()}${i ? `_${i}` : ''}`))
        : outputs.map((o) => this.claim(o));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: names,
      name: this.fresh(`${opType}_node`),
      attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
    });
    return names;
  }

  /** Like `node`, for the common single-output case: returns the output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
  ): string {
    return this.node(opType, inputs, attributes, 1)[0]!;
  }

  /**
   * Marks a value as a graph output, renaming it to `name` when given (through an Identity node),
   * so that the output names are the ones users see.
   */
  output(value: string, type: OnnxElementType, shape: readonly OnnxDim[], name?: string): string {
    let outName = value;
    if (name && name !== value) outName = this.node('Identity', [value], {}, [name])[0]!;
    this.outputs.push(valueInfo(outName, type, shape));
    return outName;
  }

  /** Serializes the model (`onnx.ModelProto` bytes), ready for `InferenceSession.create(bytes)` or a file. */
  build(options: OnnxBuildOptions = {}): Uint8Array {
    const opset = options.opset ?? 17;
    const message = ModelProto.fromObject({
      irVersion: irVersionFor(opset),
      producerName: options.producerName ?? 'smkit',
      producerVersion: options.producerVersion ?? '',
      modelVersion: 1,
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: opset }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
