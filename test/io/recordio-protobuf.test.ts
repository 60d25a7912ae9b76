import { Readable } from 'node:stream';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { encodeRecordIO, encodeRecordIOs, splitRecordIO } from '../../src/io/recordio.js';
import {
  AIALGS_DATA_SCHEMA,
  decodeRecord,
  encodeDenseRecords,
  encodeLabelRecords,
  encodeRecord,
  parseRecordIOProtobufBody,
  readRecordIOProtobuf,
} from '../../src/io/recordio-protobuf.js';
import type { RecordBatch } from '../../src/io/records.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// The two worked examples of builtin-algorithms.md section 3.
const DENSE_ROW = hex(`0a 23 d7 ce 20 00 00 00 0a 1e 0a 06 76 61 6c 75 65 73 12 14 12 12
  0a 10 00 00 c0 3f 00 00 80 41 00 00 60 41 00 00 b8 41`);
const SPARSE_ROW = hex(`0a 23 d7 ce 1f 00 00 00 0a 1d 0a 06 76 61 6c 75 65 73 12 13 12 11 0a 08
  00 00 80 3f 00 00 80 40 12 02 00 03 1a 01 04 00`);

/** The same schema with every repeated field non-packed, as some writers emit it. */
const unpackedSchema = JSON.parse(
  JSON.stringify(AIALGS_DATA_SCHEMA).replaceAll('"packed":true', '"packed":false'),
);
const UnpackedRecord = protobuf.Root.fromJSON(unpackedSchema).lookupType('aialgs.data.Record');
function encodeUnpacked(object: Record<string, unknown>): Buffer {
  return encodeRecordIO(UnpackedRecord.encode(UnpackedRecord.fromObject(object)).finish());
}

async function readAll(
  body: Buffer,
  featureDim: number,
  batchSize: number,
  chunk = 5,
): Promise<RecordBatch[]> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunk) chunks.push(body.subarray(at, at + chunk));
  const batches: RecordBatch[] = [];
  for await (const batch of readRecordIOProtobuf(Readable.from(chunks), {
    file: 'x.pbr',
    featureDim,
    batchSize,
  })) {
    batches.push(batch);
  }
  return batches;
}

describe('RecordIO-protobuf', () => {
  test('encodes the dense worked example byte for byte', () => {
    const body = encodeDenseRecords({ rows: 1, dim: 4, values: new Float32Array([1.5, 16, 14, 23]) });
    expect(body.toString('hex')).toBe(DENSE_ROW.toString('hex'));
  });

  test('encodes the sparse worked example byte for byte', () => {
    const payload = encodeRecord({ features: { values: { values: [1, 4], keys: [0, 3], shape: [4] } } });
    expect(encodeRecordIO(payload).toString('hex')).toBe(SPARSE_ROW.toString('hex'));
  });

  test('decodes the dense worked example (fast path)', () => {
    const batch = parseRecordIOProtobufBody(DENSE_ROW, { featureDim: 4 });
    expect([...batch.values]).toEqual([1.5, 16, 14, 23]);
    expect(batch.labels).toBeUndefined();
  });

  test('decodes the sparse worked example to a dense row', () => {
    expect([...parseRecordIOProtobufBody(SPARSE_ROW).values]).toEqual([1, 0, 0, 4]);
  });

  test('112 iris rows x 4 float32 features are exactly 4,480 bytes', () => {
    const values = Float32Array.from({ length: 448 }, (_, i) => 4 + (i % 37) / 10);
    const body = encodeDenseRecords({ rows: 112, dim: 4, values });
    expect(body.length).toBe(4480);
    expect(parseRecordIOProtobufBody(body, { featureDim: 4 }).values).toEqual(values);
  });

  const expected = [1.5, 16, 14, 23];
  test.each([
    [
      'float32 packed with a label',
      encodeRecordIO(
        encodeRecord({ features: { values: { values: expected } }, label: { values: { values: [2] } } }),
      ),
      [2],
    ],
    [
      'float32 non-packed',
      encodeUnpacked({ features: { values: { float32_tensor: { values: expected } } } }),
      undefined,
    ],
    [
      'float64 packed',
      encodeRecordIO(encodeRecord({ features: { values: { type: 'float64', values: expected } } })),
      undefined,
    ],
    [
      'float64 non-packed',
      encodeUnpacked({ features: { values: { float64_tensor: { values: expected } } } }),
      undefined,
    ],
    [
      'int32 packed',
      encodeRecordIO(encodeRecord({ features: { values: { type: 'int32', values: [1, 16, 14, 23] } } })),
      undefined,
    ],
    [
      'int32 non-packed with a non-packed label',
      encodeUnpacked({
        features: { values: { int32_tensor: { values: [1, 16, 14, 23] } } },
        label: { values: { float32_tensor: { values: [7] } } },
      }),
      [7],
    ],
    [
      'sparse non-packed',
      encodeUnpacked({
        features: { values: { float32_tensor: { values: [1.5, 23], keys: [0, 3], shape: [4] } } },
      }),
      undefined,
    ],
    [
      'another feature key',
      encodeRecordIO(encodeRecord({ features: { x: { values: expected } } })),
      undefined,
    ],
    [
      'a uid and metadata',
      encodeRecordIO(
        RecordTypeWith({
          uid: 'row-1',
          metadata: 'm',
          features: { values: { float32_tensor: { values: expected } } },
        }),
      ),
      undefined,
    ],
  ])('decodes %s', async (name, body, label) => {
    const [batch] = await readAll(body, 4, 10);
    const want = name.startsWith('int32')
      ? [1, 16, 14, 23]
      : name.startsWith('sparse')
        ? [1.5, 0, 0, 23]
        : expected;
    expect([...batch!.values]).toEqual(want);
    expect(batch!.labels ? [...batch!.labels] : undefined).toEqual(label);
  });

  test('the fast path and protobufjs agree on many random dense rows with labels', async () => {
    const rows = 257;
    const values = Float32Array.from({ length: rows * 3 }, (_, i) => Math.fround(Math.sin(i) * 1000));
    const labels = Float32Array.from({ length: rows }, (_, i) => i % 3);
    const body = encodeDenseRecords({ rows, dim: 3, values, labels, labelDim: 1 });
    for (const [i, payload] of splitRecordIO(body).entries()) {
      const general = decodeRecord(payload);
      expect([...general.features['values']!.values]).toEqual([...values.subarray(i * 3, i * 3 + 3)]);
      expect([...general.label['values']!.values]).toEqual([labels[i]]);
    }
    const batches = await readAll(body, 3, 100, 1000);
    expect(batches.map((b) => b.rows)).toEqual([100, 100, 57]);
    expect(Float32Array.from(batches.flatMap((b) => [...b.values]))).toEqual(values);
    expect(Float32Array.from(batches.flatMap((b) => [...b.labels!]))).toEqual(labels);
  });

  test('a row of another width names the file, the record and feature_dim', async () => {
    const body = encodeRecordIOs([
      encodeRecord({ features: { values: { values: [1, 2, 3, 4] } } }),
      encodeRecord({ features: { values: { values: [1, 2, 3] } } }),
    ]);
    await expect(readAll(body, 4, 10)).rejects.toThrow(
      'x.pbr: record 2: features have 3 values, expected 4 (feature_dim)',
    );
  });

  test('a sparse key outside feature_dim is rejected', () => {
    const body = encodeRecordIO(encodeRecord({ features: { values: { values: [1], keys: [9] } } }));
    expect(() => parseRecordIOProtobufBody(body, { featureDim: 4 })).toThrow(
      'request body: record 1: features have key 9, outside [0, 4)',
    );
  });

  test('a payload that is not a Record says so', () => {
    const garbage = encodeRecordIO(Buffer.from([0x0a, 0xff, 0xff, 0x01]));
    expect(() => parseRecordIOProtobufBody(garbage, { featureDim: 3 })).toThrow(
      'request body: record 1 is not an aialgs.data.Record protobuf message',
    );
    const body = encodeRecordIO(Buffer.from('1.5,2.5,3.5\n'));
    expect(() => parseRecordIOProtobufBody(body, { featureDim: 3 })).toThrow(
      "request body: record 1 has no features: expected an aialgs.data.Record with a 'values' feature tensor",
    );
  });

  test('label-only response records, as the built-in k-means answers', () => {
    const body = encodeLabelRecords(2, {
      closest_cluster: new Float32Array([1, 0]),
      distance_to_cluster: new Float32Array([3, 0.5]),
    });
    const records = splitRecordIO(body).map((payload) => decodeRecord(payload));
    expect(records.map((r) => Object.keys(r.features))).toEqual([[], []]);
    expect(
      records.map((r) => [r.label['closest_cluster']!.values[0], r.label['distance_to_cluster']!.values[0]]),
    ).toEqual([
      [1, 3],
      [0, 0.5],
    ]);
  });

  test('label-only response records: exact bytes of one row', () => {
    const body = encodeLabelRecords(1, { closest_cluster: new Float32Array([1]) });
    const key = Buffer.from('closest_cluster').toString('hex');
    // Record.label entry (field 2) -> key, Value{float32_tensor{values packed [1.0]}}
    expect(splitRecordIO(body)[0]!.toString('hex')).toBe(
      hex(`12 1b 0a 0f ${key} 12 08 12 06 0a 04 00 00 80 3f`).toString('hex'),
    );
  });
});

function RecordTypeWith(object: Record<string, unknown>): Uint8Array {
  const type = protobuf.Root.fromJSON(AIALGS_DATA_SCHEMA).lookupType('aialgs.data.Record');
  return type.encode(type.fromObject(object)).finish();
}
