import type { Predictions, Predictor } from '../../../../algorithms/types.js';
import { chooseDecoder, chooseEncoding, type OutputField } from '../../codecs/index.js';
import { giveFloats, isTaken } from '../../codecs/recycled-floats.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../../handler.js';
import { requireFinite, requireWidth } from '../../validate.js';

/** Options of `createPredictorHandler`. */
export interface PredictorHandlerOptions {
  /** Field order per response type when it differs from the predictor's (SageMaker's JSON Lines k-means). */
  readonly fieldOrder?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Serves a `Predictor` (a built-in algorithm's model) with every codec: decodes the body, checks width
 * and finiteness, predicts, encodes for the negotiated Accept.
 */
export function createPredictorHandler(
  kind: string,
  predictor: Predictor,
  options: PredictorHandlerOptions = {},
): ModelHandler {
  const byName = new Map(predictor.fields.map((f) => [f.name, f]));
  const orders = new Map<string, readonly OutputField[]>(
    Object.entries(options.fieldOrder ?? {}).map(([type, names]) => [type, names.map((n) => byName.get(n)!)]),
  );
  return {
    kind,
    async invoke(request: InvocationRequest): Promise<InvocationResponse> {
      const decoder = chooseDecoder(request.contentType);
      const encoding = chooseEncoding(request.accept);
      const input = decoder.decode(request.body, predictor.featureDim);
      requireWidth(input, predictor.featureDim);
      requireFinite(input);
      let predictions: Predictions | undefined;
      try {
        predictions = await predictor.predict(input.batch);
      } finally {
        lendBack(input.batch.values, predictions);
      }
      const body = encoding.encode({
        rows: predictions.rows,
        fields: orders.get(encoding.type) ?? predictor.fields,
        columns: predictions.columns,
        rootKey: predictor.jsonRootKey,
      });
      return { body, contentType: encoding.type };
    },
    close: async () => predictor.close?.(),
  };
}

/**
 * Hands decoded values back for reuse by a later request (`recycled-floats.ts`), unless an output
 * column is a view of them.
 */
function lendBack(values: Float32Array, predictions: Predictions | undefined): void {
  // Not recycled (a small body): nothing to give back. Looked at first, since reading a small output
  // column's `buffer` makes V8 move its values off the heap.
  if (!isTaken(values)) return;
  if (predictions) {
    for (const column of Object.values(predictions.columns)) {
      if (ArrayBuffer.isView(column) && column.buffer === values.buffer) return;
    }
  }
  giveFloats(values);
}
