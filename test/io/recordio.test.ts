import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeRecordIO, encodeRecordIOs, readRecordIO, splitRecordIO } from '../../src/io/recordio.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Feeds `bytes` in chunks of `size` bytes, to cross every boundary. */
function chunked(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

async function collect(source: AsyncIterable<Buffer>, file = 'x.rec'): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readRecordIO(source, file)) out.push(record.toString('hex'));
  return out;
}

describe('RecordIO framing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'recordio-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test.each([
    ['empty payload', '', '0a23d7ce 00000000'],
    ['3 bytes get 1 pad byte', '616263', '0a23d7ce 03000000 616263 00'],
    ['4 bytes need no padding', '61626364', '0a23d7ce 04000000 61626364'],
  ])('%s', (_name, payload, framed) => {
    expect(encodeRecordIO(hex(payload)).toString('hex')).toBe(hex(framed).toString('hex'));
    expect(splitRecordIO(hex(framed)).map((b) => b.toString('hex'))).toEqual([payload]);
  });

  test('a payload holding the magic at an aligned offset is split (cflag 1/2/3) and rejoined', () => {
    const payload = hex('11111111 0a23d7ce 22222222 0a23d7ce 3333');
    const framed = encodeRecordIO(payload);
    expect(framed.toString('hex')).toBe(
      hex(
        '0a23d7ce 04000020 11111111' + // start part (cflag 1), 4 bytes
          '0a23d7ce 04000040 22222222' + // middle part (cflag 2)
          '0a23d7ce 02000060 3333 0000', // end part (cflag 3), padded
      ).toString('hex'),
    );
    expect(splitRecordIO(framed)[0]!.toString('hex')).toBe(payload.toString('hex'));
  });

  test('a payload starting with the magic has an empty start part', () => {
    const payload = hex('0a23d7ce 01');
    const framed = encodeRecordIO(payload);
    expect(framed.subarray(0, 8).toString('hex')).toBe('0a23d7ce00000020');
    expect(splitRecordIO(framed)[0]!.toString('hex')).toBe(payload.toString('hex'));
  });

  test('the magic at an unaligned offset is not split', () => {
    const payload = hex('11 0a23d7ce 22');
    expect(encodeRecordIO(payload).readUInt32LE(4)).toBe(6);
  });

  test.each([1, 3, 7, 8, 13, 4096])('streams records across chunk boundaries of %i bytes', async (size) => {
    const payloads = [hex(''), hex('01'), hex('0a23d7ce 0a23d7ce ff'), Buffer.alloc(37, 7), hex('abcd')];
    const framed = encodeRecordIOs(payloads);
    expect(await collect(chunked(framed, size))).toEqual(payloads.map((p) => p.toString('hex')));
  });

  test('reads a real file through a Node Readable', async () => {
    const file = path.join(dir, 'many.rec');
    const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.from(`record ${i}`));
    await writeFile(file, encodeRecordIOs(payloads));
    const records = await collect(createReadStream(file, { highWaterMark: 100 }), file);
    expect(records.length).toBe(1000);
    expect(Buffer.from(records[999]!, 'hex').toString()).toBe('record 999');
  });

  test('a truncated file names the file, the record and how many bytes are missing', async () => {
    const framed = encodeRecordIOs([Buffer.alloc(8, 1), Buffer.alloc(20, 2)]);
    const truncated = framed.subarray(0, framed.length - 5);
    await expect(collect(chunked(truncated, 7), 'train/part-3.pbr')).rejects.toThrow(
      'train/part-3.pbr: record 2 is truncated: expected 20 payload bytes, got 15 (record starts at byte 16)',
    );
  });

  test('a file ending inside a header is truncated', () => {
    const framed = Buffer.concat([encodeRecordIO(Buffer.alloc(4)), hex('0a23d7')]);
    expect(() => splitRecordIO(framed, 'a.rec')).toThrow(
      'a.rec: record 2 is truncated: the file ends 3 bytes into an 8-byte header (at byte 12)',
    );
  });

  test('a split record without its end part is truncated', () => {
    const framed = encodeRecordIO(hex('11111111 0a23d7ce 2222'));
    const startOnly = framed.subarray(0, 12);
    expect(() => splitRecordIO(startOnly, 'a.rec')).toThrow(
      'a.rec: record 1 is truncated: the file ends inside a split record',
    );
  });

  test('bad magic names the record and offset', () => {
    const framed = Buffer.concat([encodeRecordIO(Buffer.alloc(4)), Buffer.from('1.5,2.5\n')]);
    expect(() => splitRecordIO(framed, 'train/data.csv')).toThrow(
      "train/data.csv: record 2: bad RecordIO magic 0x2c352e31 at byte 12 (expected 0xced7230a). The file is not RecordIO (check the channel's ContentType)",
    );
  });

  test('a missing final padding is accepted', () => {
    const framed = encodeRecordIO(hex('616263'));
    expect(splitRecordIO(framed.subarray(0, 11)).map((b) => b.toString())).toEqual(['abc']);
  });
});
