import { UnsupportedMediaType } from '../../util/errors.js';
import { negotiate, parseMediaType, type MediaType } from '../negotiate.js';
import { requireRecords } from '../validate.js';
import { decodeCsv } from './csv.js';
import { decodeJson, decodeJsonLines } from './json.js';
import { decodeNpy, encodeNpyOutput } from './npy.js';
import { decodeRecordIOProtobuf, encodeRecordIOProtobuf } from './recordio-protobuf.js';
import { encodeCsv, encodeJson, encodeJsonLines } from './text-encoders.js';
import type { DecodedInput, Decoder, EncodeInput, Encoder } from './types.js';

export type * from './types.js';

/** Request decoders by media type (lower case, no parameters). */
export const decoders: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  ['text/csv', decodeCsv],
  ['application/json', decodeJson],
  ['application/jsonlines', decodeJsonLines],
  ['application/x-jsonlines', decodeJsonLines],
  ['application/x-recordio-protobuf', decodeRecordIOProtobuf],
  ['application/x-npy', decodeNpy],
]);

/** Response encoders by media type, in the server's order of preference. */
export const encoders: ReadonlyMap<string, Encoder> = new Map<string, Encoder>([
  ['application/json', encodeJson],
  ['application/jsonlines', encodeJsonLines],
  ['text/csv', encodeCsv],
  ['application/x-recordio-protobuf', encodeRecordIOProtobuf],
  ['application/x-npy', encodeNpyOutput],
]);

const decoderTypes = [...decoders.keys()];
const encoderTypes = [...encoders.keys()];

/**
 * A request's decoder, chosen by its Content-Type (parameters such as charset and label_size kept).
 * `decode` answers 400 for a body without records (`validate.ts`).
 */
export interface BodyDecoder {
  readonly media: MediaType;
  decode(body: Buffer, featureDim?: number): DecodedInput;
}

/** Finds the decoder for a Content-Type; throws 415 naming the supported types when it is missing or unknown. */
export function chooseDecoder(contentType: string | undefined): BodyDecoder {
  const media: MediaType | undefined = contentType?.trim() ? parseMediaType(contentType) : undefined;
  const decoder = media && decoders.get(media.type);
  if (!media || !decoder) {
    throw new UnsupportedMediaType(
      media
        ? `Content-Type ${media.type} is not supported; send one of ${decoderTypes.join(', ')}`
        : `the request has no Content-Type; send one of ${decoderTypes.join(', ')}`,
    );
  }
  return {
    media,
    decode(body, featureDim) {
      const input = decoder(body, featureDim === undefined ? { media } : { media, featureDim });
      requireRecords(input);
      return input;
    },
  };
}

/** Decodes a request body by its Content-Type: 415 for a missing or unknown type, 400 for a malformed body. */
export function decodeBody(body: Buffer, contentType: string | undefined, featureDim?: number): DecodedInput {
  return chooseDecoder(contentType).decode(body, featureDim);
}

/** Picks the response media type for an Accept header (406 when none fits), defaulting to JSON. */
export function chooseEncoding(accept: string | undefined): { type: string; encode: Encoder } {
  const type = negotiate(accept ?? 'application/json', encoderTypes);
  return { type, encode: encoders.get(type)! };
}

/** Encodes outputs as `type` (one of `encoders`). */
export function encodeOutput(type: string, output: EncodeInput): Buffer | string {
  return encoders.get(type)!(output);
}
