import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRecordIO } from '../../src/io/recordio.js';
import { runTransform, type TransformOptions } from '../../src/local/transform.js';

let dir: string;
let server: http.Server;
let url: string;
let requests: { body: string; contentType: string | undefined; accept: string | undefined }[];
let executionParameters: string | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-transform-test-'));
  await mkdir(path.join(dir, 'in/sub'), { recursive: true });
  requests = [];
  executionParameters = undefined;
  // An echo model: N records in, the same N records out.
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/execution-parameters') {
        res.writeHead(executionParameters ? 200 : 404, { 'content-type': 'application/json' });
        res.end(executionParameters ?? '');
        return;
      }
      requests.push({
        body: body.toString('latin1'),
        contentType: req.headers['content-type'],
        accept: req.headers.accept,
      });
      if (body.includes('bad')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"bad record"}');
        return;
      }
      // A slow mini-batch: the ones after it are answered first.
      const delay = body.includes('slow') ? 300 : 0;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': req.headers.accept ?? 'text/plain' });
        res.end(body);
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<TransformOptions>): TransformOptions {
  return {
    endpoint: url,
    input: path.join(dir, 'in'),
    output: path.join(dir, 'out'),
    contentType: 'text/csv',
    accept: 'text/csv',
    splitType: 'Line',
    assembleWith: 'Line',
    joinSource: 'None',
    ...overrides,
  };
}

const out = (name: string) => readFile(path.join(dir, 'out', name), 'utf8');

describe('runTransform', () => {
  it('sends MultiRecord mini-batches within the payload, never across files, and writes X.out per file', async () => {
    await writeFile(path.join(dir, 'in/a.csv'), '1,2\n3,4\n5,6\n');
    await writeFile(path.join(dir, 'in/sub/b.csv'), '7,8\r\n');
    const result = await runTransform(options({ maxPayloadMb: 8 / (1024 * 1024) }));
    expect(requests.map((r) => r.body)).toEqual(['1,2\n3,4\n', '5,6\n', '7,8\n']);
    expect(await out('a.csv.out')).toBe('1,2\n3,4\n5,6\n');
    expect(await out('sub/b.csv.out')).toBe('7,8\n');
    expect(result.files.map((f) => [path.basename(f.output), f.records, f.requests])).toEqual([
      ['a.csv.out', 3, 2],
      ['b.csv.out', 1, 1],
    ]);
    expect(result.parameters.source).toEqual({
      BatchStrategy: 'default',
      MaxPayloadInMB: 'flag',
      MaxConcurrentTransforms: 'default',
    });
  });

  it('writes answers in input order when later mini-batches are answered first', async () => {
    await writeFile(path.join(dir, 'in/a.csv'), 'slow\n2\n3\n4\n5\r\n\n6');
    const result = await runTransform(options({ strategy: 'SingleRecord', concurrency: 3 }));
    expect(result.failures).toEqual([]);
    expect(requests.map((r) => r.body).slice(0, 3)).toEqual(['slow\n', '2\n', '3\n']);
    expect(await out('a.csv.out')).toBe('slow\n2\n3\n4\n5\n6\n');
    expect(result.files[0]).toMatchObject({ records: 6, requests: 6 });
  });

  it('takes the container execution parameters when no flag is given, flags first', async () => {
    executionParameters = '{"MaxConcurrentTransforms":4,"BatchStrategy":"SINGLE_RECORD","MaxPayloadInMB":6}';
    await writeFile(path.join(dir, 'in/a.csv'), '1\n2\n3\n');
    const result = await runTransform(options({ concurrency: 2 }));
    expect(result.parameters).toEqual({
      BatchStrategy: 'SingleRecord',
      MaxPayloadInMB: 6,
      MaxConcurrentTransforms: 2,
      source: { BatchStrategy: 'container', MaxPayloadInMB: 'container', MaxConcurrentTransforms: 'flag' },
    });
    expect(requests.map((r) => r.body).sort()).toEqual(['1\n', '2\n', '3\n']);
    expect(await out('a.csv.out')).toBe('1\n2\n3\n');
  });

  it('applies CSV input filter, join with the input and output filter', async () => {
    await writeFile(path.join(dir, 'in/a.csv'), 'setosa,5.1,3.5\nvirginica,6.3,3.3\n');
    await runTransform(options({ inputFilter: '$[1:]', joinSource: 'Input', outputFilter: '$[0,-1]' }));
    expect(requests.map((r) => r.body)).toEqual(['5.1,3.5\n6.3,3.3\n']);
    expect(await out('a.csv.out')).toBe('setosa,3.5\nvirginica,3.3\n');
  });

  it('applies JSON Lines filters and joins under SageMakerOutput', async () => {
    await writeFile(
      path.join(dir, 'in/a.jsonl'),
      '{"id":"a","features":[1,2]}\n{"id":"b","features":[3,4]}\n',
    );
    await runTransform(
      options({
        contentType: 'application/jsonlines',
        accept: 'application/jsonlines',
        inputFilter: '$.features',
        joinSource: 'Input',
        outputFilter: "$['SageMakerOutput']",
      }),
    );
    expect(requests.map((r) => r.body)).toEqual(['[1,2]\n[3,4]\n']);
    expect(await out('a.jsonl.out')).toBe('[1,2]\n[3,4]\n');
    await runTransform(
      options({ contentType: 'application/jsonlines', accept: 'application/jsonlines', joinSource: 'Input' }),
    );
    expect(await out('a.jsonl.out')).toBe(
      '{"id":"a","features":[1,2],"SageMakerOutput":{"id":"a","features":[1,2]}}\n{"id":"b","features":[3,4],"SageMakerOutput":{"id":"b","features":[3,4]}}\n',
    );
  });

  it('sends whole files with split type None and whole RecordIO records with RecordIO', async () => {
    await writeFile(path.join(dir, 'in/doc.json'), '{"instances":[1,2]}');
    await runTransform(
      options({
        contentType: 'application/json',
        accept: 'application/json',
        splitType: 'None',
        assembleWith: 'None',
      }),
    );
    expect(await out('doc.json.out')).toBe('{"instances":[1,2]}');
    await rm(path.join(dir, 'in/doc.json'));
    requests = [];
    const frames = [encodeRecordIO(Buffer.from('abc')), encodeRecordIO(Buffer.from('defgh'))];
    await writeFile(path.join(dir, 'in/data.rec'), Buffer.concat(frames));
    await runTransform(
      options({
        contentType: 'application/x-recordio-protobuf',
        accept: 'application/x-recordio-protobuf',
        splitType: 'RecordIO',
        strategy: 'SingleRecord',
        assembleWith: 'None',
      }),
    );
    expect(requests.map((r) => Buffer.from(r.body, 'latin1'))).toEqual(frames);
    expect(await readFile(path.join(dir, 'out/data.rec.out'))).toEqual(Buffer.concat(frames));
  });

  it('fails a file whose mini-batch the container refuses, and keeps going with the others', async () => {
    await writeFile(path.join(dir, 'in/a.csv'), '1\nbad\n');
    await writeFile(path.join(dir, 'in/b.csv'), '2\n');
    const result = await runTransform(options({}));
    expect(result.failures).toEqual([
      {
        input: path.join(dir, 'in/a.csv'),
        error: 'mini-batch 1 (from record 1) got 400: {"error":"bad record"}',
      },
    ]);
    expect(await out('b.csv.out')).toBe('2\n');
  });

  it('refuses TFRecord splitting before sending anything', async () => {
    await writeFile(path.join(dir, 'in/a.tfrecord'), 'x');
    await expect(runTransform(options({ splitType: 'TFRecord' }))).rejects.toThrow(
      'local transform cannot split TFRecord files (--split-type TFRecord); use Line, RecordIO or None',
    );
    expect(requests).toEqual([]);
  });

  it('rejects a record over the payload limit and limits over 100 MB', async () => {
    await writeFile(path.join(dir, 'in/a.csv'), `${'x'.repeat(20)}\n`);
    const result = await runTransform(options({ maxPayloadMb: 10 / (1024 * 1024) }));
    expect(result.failures[0]!.error).toMatch(
      /^a.csv: record 1 is 21 bytes, over MaxPayloadInMB \(10 bytes\)/,
    );
    await expect(runTransform(options({ maxPayloadMb: 20, concurrency: 6 }))).rejects.toThrow(
      'MaxConcurrentTransforms x MaxPayloadInMB must be <= 100 (got 6 x 20)',
    );
  });
});
