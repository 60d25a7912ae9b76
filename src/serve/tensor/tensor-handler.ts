/**
 * Serves a tensor model (ONNX, TF.js) with every codec: decode the body by Content-Type, fit it to the
 * model's inputs, predict, encode the outputs row by row for the negotiated Accept.
 */
import { chooseDecoder, chooseEncoding, type DecodedInput } from '../codecs/index.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../handler.js';
import { bindInputs } from './bind.js';
import type { TensorModel } from './model.js';
import { outputRows } from './outputs.js';
import type { NamedTensors } from './tensor.js';

/** The width of a single `[batch, d]` input: lets sparse JSON rows and RecordIO records without a shape decode. */
export function featureDimOf(model: TensorModel): number | undefined {
  const only = model.inputs.length === 1 ? model.inputs[0] : undefined;
  const dim = only?.shape.length === 2 ? only.shape[1] : undefined;
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/** Decodes a request body for a tensor model and fits it to the model's inputs (415, 400). */
export function decodeForModel(
  model: TensorModel,
  body: Buffer,
  contentType: string | undefined,
): NamedTensors {
  const input: DecodedInput = chooseDecoder(contentType).decode(body, featureDimOf(model));
  return bindInputs(model.inputs, input);
}

/** Encodes outputs for an Accept header already resolved against the default (406 when none fits). */
export function encodeForClient(model: TensorModel, outputs: NamedTensors, accept: string | undefined) {
  const encoding = chooseEncoding(accept);
  const names = model.outputs.map((o) => o.name).filter((name) => name in outputs);
  return { body: encoding.encode(outputRows(outputs, names)), contentType: encoding.type };
}

/** A ModelHandler over a tensor model; user code's default predictFn reaches the model through it. */
export interface TensorModelHandler extends ModelHandler {
  readonly tensorModel: TensorModel;
}

/** A ModelHandler over a tensor model. */
export function createTensorHandler(model: TensorModel): TensorModelHandler {
  return {
    kind: model.kind,
    tensorModel: model,
    async invoke(request: InvocationRequest): Promise<InvocationResponse> {
      chooseEncoding(request.accept); // 406 before any work
      const feeds = decodeForModel(model, request.body, request.contentType);
      const outputs = await model.predict(feeds);
      return encodeForClient(model, outputs, request.accept);
    },
    close: () => model.close(),
  };
}
