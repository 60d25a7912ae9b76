/**
 * Serves a tensor model (ONNX, TF.js) with every codec: decode the body by Content-Type, fit it to the
 * model's inputs, predict, encode the outputs row by row for the negotiated Accept.
 */
import { HttpError } from '../../util/errors.js';
import { chooseDecoder, chooseEncoding, type DecodedInput } from '../codecs/index.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../handler.js';
import { bindInputs } from './bind.js';
import type { TensorModel } from './model.js';
import { outputRows } from './outputs.js';
import { formatShape, type NamedTensors } from './tensor.js';

/** The width of a single `[batch, d]` input: lets sparse JSON rows and RecordIO records without a shape decode. */
export function featureDimOf(model: TensorModel): number | undefined {
  const only = model.inputs.length === 1 ? model.inputs[0] : undefined;
  const dim = only?.shape.length === 2 ? only.shape[1] : undefined;
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/**
 * The codecs' width messages in the model's terms: they speak of `feature_dim`, the built-in algorithms'
 * hyperparameter, which an ONNX or TF.js user never set; name the input and its shape instead.
 */
function inModelTerms(message: string, model: TensorModel): string {
  const only = model.inputs.length === 1 ? model.inputs[0] : undefined;
  const input = only ? `input '${only.name}' ${formatShape(only.shape)}` : 'the model input';
  return message
    .replace(/ ?Every record must have exactly feature_dim values\./g, '')
    .replace(/\(feature_dim\)/g, `(the width of ${input})`)
    .replace(/feature_dim (\d+)/g, `$1, the width of ${input}`)
    .replace(/feature_dim/g, `the width of ${input}`);
}

/** Decodes a request body by its Content-Type for a tensor model (415, 400, 413), in the model's terms. */
export function decodeTensorBody(
  model: TensorModel,
  body: Buffer,
  contentType: string | undefined,
): DecodedInput {
  const decoder = chooseDecoder(contentType);
  try {
    return decoder.decode(body, featureDimOf(model));
  } catch (error) {
    if (error instanceof HttpError && error.message.includes('feature_dim')) {
      throw new HttpError(error.status, inModelTerms(error.message, model));
    }
    throw error;
  }
}

/** Decodes a request body for a tensor model and fits it to the model's inputs (415, 400). */
export function decodeForModel(
  model: TensorModel,
  body: Buffer,
  contentType: string | undefined,
): NamedTensors {
  const input: DecodedInput = decodeTensorBody(model, body, contentType);
  return bindInputs(model.inputs, input);
}

/**
 * Encodes outputs for an Accept header already resolved against the default (406 when none fits);
 * `encoding` when the caller has negotiated it already.
 */
export function encodeForClient(
  model: TensorModel,
  outputs: NamedTensors,
  accept: string | undefined,
  encoding = chooseEncoding(accept),
) {
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
      // Negotiated once, first: a 406 before any work.
      const encoding = chooseEncoding(request.accept);
      const feeds = decodeForModel(model, request.body, request.contentType);
      const outputs = await model.predict(feeds);
      return encodeForClient(model, outputs, request.accept, encoding);
    },
    close: () => model.close(),
  };
}
