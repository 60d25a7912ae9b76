/**
 * The request bodies of the serving benchmarks: the same rows as CSV, JSON (`{"instances": [{"features":
 * [...]}]}` and plain nested lists), JSON Lines, RecordIO-protobuf and NPY, with their Content-Types.
 */
import { encodeNpy } from '../src/io/npy.js';
import { encodeDenseRecords } from '../src/io/recordio-protobuf.js';

/** The body types `--bodies` names. */
export const BODY_KINDS = ['csv', 'json', 'jsonlist', 'jsonl', 'recordio', 'npy'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

/** Content-Type per body type. */
export const CONTENT_TYPES: Record<BodyKind, string> = {
  csv: 'text/csv',
  json: 'application/json',
  jsonlist: 'application/json',
  jsonl: 'application/jsonlines',
  recordio: 'application/x-recordio-protobuf',
  npy: 'application/x-npy',
};

/** `rows` encoded as a body of type `kind`. */
export function encodeBody(kind: BodyKind, rows: readonly (readonly number[])[]): Buffer {
  const dim = rows[0]!.length;
  switch (kind) {
    case 'csv':
      return Buffer.from(`${rows.map((r) => r.join(',')).join('\n')}\n`);
    case 'json':
      return Buffer.from(JSON.stringify({ instances: rows.map((features) => ({ features })) }));
    case 'jsonlist':
      return Buffer.from(JSON.stringify(rows));
    case 'jsonl':
      return Buffer.from(`${rows.map((features) => JSON.stringify({ features })).join('\n')}\n`);
    case 'recordio':
      return encodeDenseRecords({ rows: rows.length, dim, values: Float32Array.from(rows.flat()) });
    case 'npy':
      return encodeNpy({ dtype: 'float32', shape: [rows.length, dim], data: Float32Array.from(rows.flat()) });
  }
}

/** Parses `--bodies csv,json,...` (throws naming the known types). */
export function parseBodyKinds(text: string): BodyKind[] {
  const kinds = text
    .split(',')
    .map((kind) => kind.trim())
    .filter(Boolean);
  for (const kind of kinds) {
    if (!(BODY_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`--bodies: unknown body type ${kind}; use some of ${BODY_KINDS.join(',')}`);
    }
  }
  return kinds as BodyKind[];
}
