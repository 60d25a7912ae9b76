import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type InputDataConfig, type SageMakerPaths, resolvePaths } from '../../src/contract/index.js';
import { encodeRecordIOs } from '../../src/io/recordio.js';
import { encodeDenseRecords, encodeRecord } from '../../src/io/recordio-protobuf.js';
import type { RecordBatch } from '../../src/io/records.js';
import {
  type ParallelCsvOptions,
  createChannels,
  parseChannelContentType,
} from '../../src/train/channels.js';

type ChannelInput = Partial<InputDataConfig[string]>;

let base: string;
let paths: SageMakerPaths;
let logLines: Record<string, unknown>[];

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'channels-'));
  paths = resolvePaths(base);
  await mkdir(paths.inputData, { recursive: true });
  logLines = [];
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

function channels(config: Record<string, ChannelInput>, pipeWaitSeconds = 5, signal?: AbortSignal) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const inputDataConfig = Object.fromEntries(
    Object.entries(config).map(([name, c]) => [
      name,
      { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None', ...c },
    ]),
  ) as InputDataConfig;
  return createChannels({ paths, inputDataConfig, settings: { pipeWaitSeconds }, log: pino(sink), signal });
}

async function put(relative: string, data: string | Buffer): Promise<string> {
  const file = path.join(paths.inputData, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  return file;
}

async function readAll(stream: AsyncIterable<RecordBatch>): Promise<{ sizes: number[]; rows: number[][] }> {
  const sizes: number[] = [];
  const rows: number[][] = [];
  for await (const batch of stream) {
    sizes.push(batch.rows);
    for (let r = 0; r < batch.rows; r++)
      rows.push([...batch.values.subarray(r * batch.dim, (r + 1) * batch.dim)]);
  }
  return { sizes, rows };
}

const csvRows = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${from + i},${(from + i) / 2}`).join('\n') + '\n';

describe('File mode', () => {
  test('reads every file recursively in path order, .gz transparently, skipping hidden files and manifests', async () => {
    await put('train/b/part-2.csv', csvRows(4, 2));
    await put('train/a.csv.gz', gzipSync(csvRows(0, 3)));
    await put('train/b/part-1.csv', csvRows(3, 1));
    await put('train/.hidden.csv', 'garbage\n');
    await put('train/.cache/x.csv', 'garbage\n');
    await put('train/train.manifest', 'garbage\n');
    const ch = channels({ train: { ContentType: 'text/csv' } });
    expect((await ch.files('train')).map((f) => path.relative(paths.inputData, f))).toEqual([
      'train/a.csv.gz',
      'train/b/part-1.csv',
      'train/b/part-2.csv',
    ]);
    const stream = ch.open('train', { batchSize: 4, featureDim: 2 });
    const { sizes, rows } = await readAll(stream);
    expect(sizes).toEqual([4, 2]); // batches span files
    expect(rows.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stream.stats).toEqual({ files: 3, bytes: expect.any(Number), rows: 6 });
    const opened = logLines.find((line) => line['channel'] === 'train' && line['files']);
    expect(opened?.['files']).toEqual(['train/a.csv.gz', 'train/b/part-1.csv', 'train/b/part-2.csv']);
  });

  test('reads RecordIO-protobuf when ContentType is absent, and re-reads files each epoch', async () => {
    const values = Float32Array.from({ length: 20 }, (_, i) => i);
    await put('train/matrix_0.pbr', encodeDenseRecords({ rows: 5, dim: 4, values }));
    const ch = channels({ train: {} });
    expect(ch.format('train')).toEqual({ kind: 'recordio-protobuf' });
    for (const epoch of [0, 1]) {
      const { sizes, rows } = await readAll(ch.open('train', { batchSize: 2, featureDim: 4, epoch }));
      expect(sizes).toEqual([2, 2, 1]);
      expect(rows[4]).toEqual([16, 17, 18, 19]);
    }
  });

  test('text/csv;label_size=1 puts the first column in labels', async () => {
    await put('train/x.csv', '1,5,6\r\n0,7,8\r\n');
    const ch = channels({ train: { ContentType: 'text/csv;label_size=1' } });
    const batches: RecordBatch[] = [];
    for await (const batch of ch.open('train', { batchSize: 10, featureDim: 2 })) batches.push(batch);
    expect([...batches[0]!.values]).toEqual([5, 6, 7, 8]);
    expect([...batches[0]!.labels!]).toEqual([1, 0]);
  });

  test('a row of another width fails naming the file and line', async () => {
    await put('train/a.csv', '1,2\n3,4\n');
    const file = await put('train/b.csv', '1,2\n3,4,5\n');
    const ch = channels({ train: { ContentType: 'text/csv' } });
    await expect(readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rejects.toThrow(
      `${file} line 2: expected 2 columns (feature_dim), got 3.`,
    );
  });

  test('a truncated RecordIO file fails naming the file and record', async () => {
    const body = encodeDenseRecords({ rows: 3, dim: 2, values: new Float32Array(6) });
    const file = await put('train/part.pbr', body.subarray(0, body.length - 3));
    const ch = channels({ train: {} });
    await expect(readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rejects.toThrow(
      `${file}: record 3 is truncated: expected 24 payload bytes, got 21`,
    );
  });

  test('recognises gzip by its magic bytes, whatever the file name', async () => {
    await put('train/part-0', gzipSync(csvRows(0, 2)));
    await put('train/part-1.gz', csvRows(2, 1)); // named .gz but plain: read as is
    const ch = channels({ train: { ContentType: 'text/csv' } });
    expect((await readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rows).toEqual([
      [0, 0],
      [1, 0.5],
      [2, 1],
    ]);
  });

  test('a corrupt .gz file fails naming the file', async () => {
    const gz = gzipSync(csvRows(0, 100));
    const file = await put('train/a.csv.gz', gz.subarray(0, gz.length - 20));
    const ch = channels({ train: { ContentType: 'text/csv' } });
    await expect(readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rejects.toThrow(
      `${file}: cannot decompress gzip data`,
    );
  });

  test('large CSV channels are parsed on worker threads, yielding what one thread yields', async () => {
    await put('train/a.csv', csvRows(0, 500));
    await put('train/b/c.csv', `${csvRows(500, 300)}\n800,400`);
    await put('train/d.csv', '');
    const inputDataConfig: InputDataConfig = {
      train: {
        TrainingInputMode: 'File',
        S3DistributionType: 'FullyReplicated',
        RecordWrapperType: 'None',
        ContentType: 'text/csv',
      },
    };
    const open = async (parallelCsv: ParallelCsvOptions) => {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      });
      const log = pino({ level: 'debug' }, sink);
      const ch = createChannels({
        paths,
        inputDataConfig,
        settings: { pipeWaitSeconds: 1 },
        log,
        parallelCsv,
      });
      const stream = ch.open('train', { batchSize: 64, featureDim: 2 });
      const read = await readAll(stream);
      const done = lines.find((line) => line['msg'] === 'channel train read');
      return { ...read, stats: { ...stream.stats }, parallel: done?.['parallel'] };
    };
    const threads = await open({ workers: 2, partBytes: 1000, minBytes: 0 });
    const one = await open({ workers: 1 });
    expect(threads.parallel).toBe(true);
    expect(one.parallel).toBe(false);
    expect(threads.rows).toHaveLength(801);
    expect(threads).toEqual({ ...one, parallel: true });
    // Below minBytes, and with a gzip file, one thread parses.
    expect((await open({ workers: 2, partBytes: 1000 })).parallel).toBe(false);
    await put('train/e.csv.gz', gzipSync(csvRows(801, 2)));
    const gzip = await open({ workers: 2, partBytes: 1000, minBytes: 0 });
    expect(gzip.parallel).toBe(false);
    expect(gzip.rows).toHaveLength(803);
  });

  test('an empty channel yields nothing and says so in its stats', async () => {
    await mkdir(path.join(paths.inputData, 'train'));
    await put('train/.keep', '');
    const stream = channels({ train: { ContentType: 'text/csv' } }).open('train', {
      batchSize: 10,
      featureDim: 2,
    });
    expect((await readAll(stream)).sizes).toEqual([]);
    expect(stream.stats.rows).toBe(0);
  });

  test('a missing channel directory and an unknown channel are InputErrors', async () => {
    const ch = channels({ train: { ContentType: 'text/csv' } });
    await expect(readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rejects.toThrow(
      `channel 'train': ${path.join(paths.inputData, 'train')} does not exist.`,
    );
    expect(() => ch.open('test', { batchSize: 10, featureDim: 2 })).toThrow(
      "no channel 'test' in inputdataconfig.json (configured: train)",
    );
  });

  test('exposes names, configs and the distribution type', () => {
    const ch = channels({
      train: { S3DistributionType: 'ShardedByS3Key' },
      test: { ContentType: 'text/csv' },
    });
    expect(ch.names).toEqual(['test', 'train']);
    expect([ch.has('train'), ch.has('validation')]).toEqual([true, false]);
    expect(ch.distribution('train')).toBe('ShardedByS3Key');
    expect(ch.config('test').ContentType).toBe('text/csv');
  });

  test('RecordWrapperType RecordIO unwraps each object before parsing it', async () => {
    const csvObjects = encodeRecordIOs([Buffer.from('1,2\n3,4'), Buffer.from('5,6\n')]);
    await put('train/wrapped', csvObjects);
    const pbrObject = encodeDenseRecords({ rows: 2, dim: 2, values: new Float32Array([1, 2, 3, 4]) });
    const bareRecord = encodeRecord({ features: { values: { values: [5, 6] } } });
    await put('proto/wrapped', encodeRecordIOs([pbrObject, bareRecord]));
    const ch = channels({
      train: { ContentType: 'text/csv', RecordWrapperType: 'RecordIO' },
      proto: { RecordWrapperType: 'RecordIO' },
    });
    expect((await readAll(ch.open('train', { batchSize: 10, featureDim: 2 }))).rows).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect((await readAll(ch.open('proto', { batchSize: 10, featureDim: 2 }))).rows).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });
});

describe('ContentType', () => {
  test.each([
    [undefined, { kind: 'recordio-protobuf' }],
    ['', { kind: 'recordio-protobuf' }],
    ['application/x-recordio-protobuf', { kind: 'recordio-protobuf' }],
    ['text/csv', { kind: 'csv', labelSize: 0 }],
    ['text/csv;label_size=1', { kind: 'csv', labelSize: 1 }],
    ['Text/CSV; label_size = 2', { kind: 'csv', labelSize: 2 }],
  ])('%s', (contentType, format) => {
    expect(parseChannelContentType('train', contentType)).toEqual(format);
  });

  test('an unknown ContentType fails when the channels are created, naming channel and supported types', () => {
    expect(() => channels({ train: { ContentType: 'application/json' } })).toThrow(
      "channel 'train': ContentType 'application/json' is not supported. Use text/csv (optionally text/csv;label_size=N) or application/x-recordio-protobuf",
    );
    expect(() => parseChannelContentType('train', 'text/csv;label_size=x')).toThrow(
      "channel 'train': ContentType 'text/csv;label_size=x' has label_size 'x'; it must be an integer >= 0",
    );
  });
});

describe('Pipe mode', () => {
  /** A separate process creates the FIFOs late (mkfifo) and writes each epoch's data into them. */
  function feedFifos(writes: { fifo: string; files: string[]; gzip?: boolean }[]) {
    const script = writes
      .map(({ fifo, files, gzip }) => {
        const objects = files.map((file) => `${gzip ? 'gzip -c' : 'cat'} '${file}'`).join('; ');
        return `sleep 0.2; mkfifo '${fifo}'; { ${objects}; } > '${fifo}'`;
      })
      .join('; ');
    const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
    return new Promise<number | null>((resolve) => child.on('exit', resolve));
  }

  test('reads the FIFO of each epoch to EOF once it appears', async () => {
    const epoch0 = path.join(base, 'epoch0.pbr');
    const epoch1 = path.join(base, 'epoch1.pbr');
    await writeFile(
      epoch0,
      encodeDenseRecords({ rows: 3, dim: 2, values: new Float32Array([1, 2, 3, 4, 5, 6]) }),
    );
    await writeFile(epoch1, encodeDenseRecords({ rows: 1, dim: 2, values: new Float32Array([7, 8]) }));
    const writer = feedFifos([
      { fifo: path.join(paths.inputData, 'train_0'), files: [epoch0] },
      { fifo: path.join(paths.inputData, 'train_1'), files: [epoch1] },
    ]);
    const ch = channels({ train: { TrainingInputMode: 'Pipe' } });
    expect(await ch.files('train')).toEqual([]);
    expect((await readAll(ch.open('train', { batchSize: 2, featureDim: 2, epoch: 0 }))).rows).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect((await readAll(ch.open('train', { batchSize: 2, featureDim: 2, epoch: 1 }))).rows).toEqual([
      [7, 8],
    ]);
    expect(await writer).toBe(0);
  });

  test('CompressionType Gzip decompresses the FIFO, one gzip member per object', async () => {
    const data = path.join(base, 'data.csv');
    const more = path.join(base, 'more.csv');
    await writeFile(data, csvRows(0, 600));
    await writeFile(more, csvRows(600, 400));
    const writer = feedFifos([
      { fifo: path.join(paths.inputData, 'train_0'), files: [data, more], gzip: true },
    ]);
    const ch = channels({
      train: { TrainingInputMode: 'Pipe', ContentType: 'text/csv', CompressionType: 'Gzip' },
    });
    const { sizes, rows } = await readAll(ch.open('train', { batchSize: 300, featureDim: 2 }));
    expect(sizes).toEqual([300, 300, 300, 100]);
    expect(rows[999]).toEqual([999, 499.5]);
    expect(await writer).toBe(0);
  });

  test('the stop signal (SIGTERM) ends the wait for a FIFO at once', async () => {
    const stop = new AbortController();
    const ch = channels({ train: { TrainingInputMode: 'Pipe' } }, 600, stop.signal);
    const reading = readAll(ch.open('train', { batchSize: 2, featureDim: 2 }));
    setTimeout(() => stop.abort(), 100);
    await expect(reading).rejects.toThrow(
      `Pipe-mode channel 'train': stopped while waiting for the FIFO ${path.join(paths.inputData, 'train_0')}`,
    );
  });

  test('a FIFO that never appears fails after the configured wait, saying how to wait longer', async () => {
    const ch = channels({ train: { TrainingInputMode: 'Pipe' } }, 0.3);
    await expect(readAll(ch.open('train', { batchSize: 2, featureDim: 2, epoch: 1 }))).rejects.toThrow(
      `Pipe-mode channel 'train': the FIFO ${path.join(paths.inputData, 'train_1')} did not appear within 0.3 s. ` +
        'Check that the channel is configured with TrainingInputMode Pipe, or wait longer by setting SMKIT_PIPE_WAIT_SECONDS.',
    );
  });
});
