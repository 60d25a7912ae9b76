import { describe, expect, test } from 'vitest';
import { BatchBuilder } from '../../src/io/batch-builder.js';
import { isMarkedFinite } from '../../src/io/finite-mark.js';
import { encodeRecordIO, splitRecordIO } from '../../src/io/recordio.js';
import {
  decodeRecord,
  encodeDenseRecords,
  parseRecordIOProtobufBody,
  RecordRowDecoder,
  RecordType,
} from '../../src/io/recordio-protobuf.js';
import type { RecordBatch } from '../../src/io/records.js';

/** parseRecordIOProtobufBody as it was before the one-pass path: split, then record by record. */
function recordByRecord(body: Buffer, featureDim?: number): RecordBatch {
  const file = 'request body';
  const records = splitRecordIO(body, file);
  if (records.length === 0) throw new Error(`${file} holds no records`);
  const dim = featureDim ?? firstWidth(records[0]!, file);
  const builder = new BatchBuilder({ batchSize: records.length + 1, dim, labelDim: 'auto' });
  const decoder = new RecordRowDecoder(file, builder);
  for (let i = 0; i < records.length; i++) decoder.decode(records[i]!, i + 1);
  builder.flushLast();
  return builder.take()[0]!;
}

/** The width of the first record, as the record-by-record path took it. */
function firstWidth(first: Buffer, file: string): number {
  const { features } = decodeRecord(first, `${file}: record 1`);
  const keys = Object.keys(features);
  if (keys.length > 1 && !features['values']) {
    throw new Error(`${file} has features ${keys.join(', ')}; expected one named 'values'`);
  }
  const tensor = features['values'] ?? features[keys[0]!];
  const dim = !tensor
    ? 0
    : !tensor.keys.length
      ? tensor.values.length
      : tensor.shape.reduce((a, b) => a * b, tensor.shape.length ? 1 : 0);
  if (!dim) throw new Error(`${file}: record 1 has no features`);
  return dim;
}

/** What a caller sees of a parse: the batch's bytes, or the error's message. */
function outcome(parse: () => RecordBatch): unknown {
  try {
    const batch = parse();
    return {
      rows: batch.rows,
      dim: batch.dim,
      values: Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength).toString(
        'hex',
      ),
      labelDim: batch.labelDim,
      labels: batch.labels
        ? Buffer.from(batch.labels.buffer, batch.labels.byteOffset, batch.labels.byteLength).toString('hex')
        : undefined,
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

function randomFloats(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6));
}

/** `body` at an odd byte offset of a larger buffer (a body cut out of a socket read). */
function unaligned(body: Buffer): Buffer {
  const bigger = Buffer.alloc(body.length + 3);
  body.copy(bigger, 1);
  return bigger.subarray(1, 1 + body.length);
}

const payload = (object: Record<string, unknown>) =>
  Buffer.from(RecordType.encode(RecordType.fromObject(object)).finish());
const dense = (values: number[], type = 'float32_tensor') => ({ values: { [type]: { values } } });

describe('parseRecordIOProtobufBody: dense float32 bodies in one pass', () => {
  test.each([
    [1, 1],
    [1, 50],
    [7, 3],
    [40, 50],
    [3, 300],
    [2, 5000],
  ])('%i records of %i features decode to the same bytes as record by record', (rows, dim) => {
    for (const labelDim of [0, 1, 3]) {
      const batch: RecordBatch = {
        rows,
        dim,
        values: randomFloats(rows * dim),
        ...(labelDim ? { labels: randomFloats(rows * labelDim), labelDim } : {}),
      };
      const body = encodeDenseRecords(batch);
      for (const input of [body, unaligned(body)]) {
        for (const featureDim of [dim, undefined]) {
          const expected = outcome(() => recordByRecord(input, featureDim));
          expect(
            outcome(() => parseRecordIOProtobufBody(input, featureDim === undefined ? {} : { featureDim })),
          ).toEqual(expected);
        }
      }
    }
  });

  test('marks the values finite only when asked and they are', () => {
    const finite = encodeDenseRecords({ rows: 2, dim: 2, values: new Float32Array([1, 2, 3, 4]) });
    expect(
      isMarkedFinite(parseRecordIOProtobufBody(finite, { featureDim: 2, markFinite: true }).values),
    ).toBe(true);
    // A caller of the public parser may change the values before any check: no mark for it.
    expect(isMarkedFinite(parseRecordIOProtobufBody(finite, { featureDim: 2 }).values)).toBe(false);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const body = encodeDenseRecords({ rows: 2, dim: 2, values: new Float32Array([1, 2, bad, 4]) });
      const batch = parseRecordIOProtobufBody(body, { featureDim: 2, markFinite: true });
      expect(isMarkedFinite(batch.values)).toBe(false);
      expect(outcome(() => batch)).toEqual(outcome(() => recordByRecord(body, 2)));
    }
  });

  const row = encodeRecordIO(payload({ features: dense([1, 2, 3]) }));
  const odd: [string, Buffer][] = [
    [
      'sparse features',
      encodeRecordIO(
        payload({ features: { values: { float32_tensor: { values: [5], keys: [1], shape: [3] } } } }),
      ),
    ],
    ['float64 features', encodeRecordIO(payload({ features: dense([1, 2, 3], 'float64_tensor') }))],
    ['int32 features', encodeRecordIO(payload({ features: dense([1, 2, 3], 'int32_tensor') }))],
    [
      'int32 keys',
      encodeRecordIO(
        payload({ features: { values: { int32_tensor: { values: [1, 2], keys: [0, 2], shape: [3] } } } }),
      ),
    ],
    ['a label', encodeRecordIO(payload({ features: dense([1, 2, 3]), label: dense([9]) }))],
    [
      'another key',
      encodeRecordIO(payload({ features: { other: { float32_tensor: { values: [1, 2, 3] } } } })),
    ],
    ['a uid', encodeRecordIO(payload({ features: dense([1, 2, 3]), uid: 'row-1' }))],
    [
      'an unknown field',
      encodeRecordIO(Buffer.concat([payload({ features: dense([1, 2, 3]) }), Buffer.from([0x30, 0x01])])),
    ],
    [
      'an unknown length-delimited field',
      encodeRecordIO(
        Buffer.concat([payload({ features: dense([1, 2, 3]) }), Buffer.from([0x3a, 0x01, 0x41])]),
      ),
    ],
    ['the wrong width', encodeRecordIO(payload({ features: dense([1, 2]) }))],
    ['no features', encodeRecordIO(payload({ label: dense([1]) }))],
    ['an empty record', encodeRecordIO(Buffer.alloc(0))],
    [
      'a Bytes value',
      encodeRecordIO(payload({ features: { values: { bytes: { value: [Buffer.from('x')] } } } })),
    ],
    ['garbage', encodeRecordIO(Buffer.from([0xff, 0xff, 0xff]))],
    [
      'a split record',
      encodeRecordIO(
        payload({ features: dense([1, new Float32Array(new Uint32Array([0xced7230a]).buffer)[0]!, 3]) }),
      ),
    ],
  ];
  test.each(odd)(
    'a body whose second record has %s: the same batch or error as record by record',
    (_name, second) => {
      for (const body of [Buffer.concat([row, second]), Buffer.concat([second, row]), second]) {
        for (const featureDim of [3, undefined]) {
          const options = featureDim === undefined ? {} : { featureDim };
          let expected: unknown;
          try {
            expected = outcome(() => recordByRecord(body, featureDim));
          } catch (error) {
            expected = { error: (error as Error).message };
          }
          expect(outcome(() => parseRecordIOProtobufBody(body, options))).toEqual(expected);
        }
      }
    },
  );

  test.each([
    ['truncated in a header', (b: Buffer) => b.subarray(0, b.length - row.length + 5)],
    ['truncated in a payload', (b: Buffer) => b.subarray(0, b.length - 6)],
    ['without the last padding', (b: Buffer) => b.subarray(0, b.length - 2)],
    ['with a bad magic', (b: Buffer) => Buffer.concat([b, Buffer.from('0badc0de00000000', 'hex')])],
    ['with trailing bytes', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
  ])('a body %s: the same batch or error as before', (_name, cut) => {
    // Records of 2 floats: 30-byte payloads, 2 bytes of padding each.
    const records = encodeDenseRecords({ rows: 3, dim: 2, values: new Float32Array([1, 2, 3, 4, 5, 6]) });
    const body = cut(records);
    expect(outcome(() => parseRecordIOProtobufBody(body, { featureDim: 2 }))).toEqual(
      outcome(() => recordByRecord(body, 2)),
    );
  });
});
