import type { Predictor } from '../../../../algorithms/types.js';
import { BadRequest } from '../../../util/errors.js';
import { chooseDecoder, chooseEncoding, type DecodedInput, type OutputField } from '../../codecs/index.js';
import type { InvocationRequest, InvocationResponse, ModelHandler } from '../../handler.js';

/** Options of `createPredictorHandler`. */
export interface PredictorHandlerOptions {
  /** Field order per response type when it differs from the predictor's (SageMaker's JSON Lines k-means). */
  readonly fieldOrder?: Readonly<Record<string, readonly string[]>>;
}

/** Throws 400 naming the row and column of the first value that is not a finite number. */
export function requireFinite(input: DecodedInput): void {
  const { values, dim } = input.batch;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / dim);
      throw new BadRequest(
        `${input.describe(row)}, value ${(i % dim) + 1}: ${v} is not allowed; send finite numbers ` +
          '(values beyond float32 range become Infinity)',
      );
    }
  }
}

/** Throws 400 when the body holds no rows or rows of the wrong width. */
export function requireWidth(input: DecodedInput, featureDim: number): void {
  const { rows, dim } = input.batch;
  if (rows === 0) throw new BadRequest('the body holds no records; send at least one row');
  if (dim !== featureDim) {
    throw new BadRequest(
      `${input.describe(0)} has ${dim} values, but the model expects ${featureDim} features per record`,
    );
  }
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
      const predictions = await predictor.predict(input.batch);
      const body = encoding.encode({
        rows: predictions.rows,
        fields: orders.get(encoding.type) ?? predictor.fields,
        columns: predictions.columns,
        rootKey: predictor.jsonRootKey,
      });
      return { body, contentType: encoding.type };
    },
  };
}
