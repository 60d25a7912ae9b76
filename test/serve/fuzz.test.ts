import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { loadModel } from '../../src/serve/kinds/kind.js';
import { defaultModelKinds as kinds } from '../../src/serve/kinds/index.js';
import { type FuzzAnswer, generator, heapAfterGc, sendOn } from './fuzz-support.js';
import { kmeansModelFile, quietLog, settingsFrom, startApp, type TestServer } from './helpers.js';

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-fuzz-'));
  await writeFile(path.join(dir, 'model_algo-1'), kmeansModelFile());
  const settings = settingsFrom({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '0.01' });
  server = await startApp({
    settings,
    loadHandler: () => loadModel(dir, { settings, log: quietLog, kinds }),
  });
  await server.app.loaded;
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const TYPES = [
  'text/csv',
  'application/json',
  'application/jsonlines',
  'application/x-recordio-protobuf',
  'text/csv; charset=utf-8',
  'TEXT/CSV',
  'application/x-npy',
];
const RECORD = encodeDenseRecords({ rows: 1, dim: 4, values: new Float32Array([1, 2, 3, 4]) });

type Case = { headers: Record<string, string>; body: Buffer | string; kind: string };

function malformed(g: ReturnType<typeof generator>): Case {
  const type = g.pick(TYPES);
  switch (g.int(10)) {
    case 0:
      return { kind: 'random bytes', headers: { 'Content-Type': type }, body: g.bytes(1 + g.int(300)) };
    case 1:
      return {
        kind: 'truncated RecordIO',
        headers: { 'Content-Type': 'application/x-recordio-protobuf' },
        body: RECORD.subarray(0, 1 + g.int(RECORD.length - 1)),
      };
    case 2: {
      const rows = Array.from({ length: 2 + g.int(5) }, (_, i) =>
        Array.from({ length: i === 1 ? g.pick([1, 2, 3, 5, 9]) : 4 }, () => g.int(100)).join(','),
      );
      return { kind: 'mixed widths', headers: { 'Content-Type': 'text/csv' }, body: rows.join('\n') };
    }
    case 3: {
      const huge = g.pick(['1e400', '-1e999', '3.5e38', 'Infinity', 'NaN', 'nan', '-inf']);
      const row = [1, 2, 3, huge];
      return g.next() < 0.5
        ? { kind: 'huge numbers', headers: { 'Content-Type': 'text/csv' }, body: row.join(',') }
        : {
            kind: 'huge numbers',
            headers: { 'Content-Type': 'application/json' },
            body: `{"instances": [[1, 2, 3, ${huge === '1e400' || huge === '-1e999' ? huge : '"x"'}]]}`,
          };
    }
    case 4:
      return { kind: 'empty body', headers: { 'Content-Type': type }, body: '' };
    case 5:
      return {
        kind: 'wrong Content-Type',
        headers: {
          'Content-Type': g.pick(['image/png', 'text/plain', 'csv', '', ';;;', 'application/x-npz']),
        },
        body: '1,2,3,4',
      };
    case 6:
      return {
        kind: 'unsatisfiable Accept',
        headers: {
          'Content-Type': 'text/csv',
          Accept: g.pick(['image/png', 'text/html;q=1, */*;q=0', 'x/y']),
        },
        body: '1,2,3,4',
      };
    case 7: {
      const json = g.pick([
        '{"instances": {}}',
        '{"instances": [{"features": "abc"}]}',
        '{"instances": [{"data": {"features": {"keys": [9], "shape": [4], "values": [1]}}}]}',
        '{"instances": [{"data": {"features": {"keys": [0, 1], "values": [1]}}}]}',
        '{"inputs": {}}',
        '[[[1,2],[3]]]',
        'null',
        '"text"',
        '{"instances": [null]}',
        '[true, false, 1, 2]',
      ]);
      return { kind: 'bad JSON shapes', headers: { 'Content-Type': g.pick(TYPES.slice(1, 3)) }, body: json };
    }
    case 8:
      return {
        kind: 'oversize',
        headers: { 'Content-Type': 'text/csv' },
        body: '1,2,3,4\n'.repeat(1400 + g.int(500)),
      };
    default: {
      const text = '1.5,16,14,23\n'.slice(0, g.int(12));
      return {
        kind: 'truncated CSV',
        headers: { 'Content-Type': g.pick(['text/csv', 'text/csv;label_size=9']) },
        body: `${text},x`,
      };
    }
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function send(url: string, method: string, path: string, c?: Case): Promise<FuzzAnswer> {
  return sendOn(agent, `${url}${path}`, { method, ...(c ? { headers: c.headers, body: c.body } : {}) });
}

async function barrage(seed: number, count: number): Promise<Map<string, number>> {
  const g = generator(seed);
  const kinds = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (i % 500 === 0) {
        const ping = await send(server.url, 'GET', '/ping');
        if (ping.status !== 200) failures.push(`request ${i}: /ping answered ${ping.status}`);
      }
      const c = malformed(g);
      const reply = await send(server.url, 'POST', '/invocations', c);
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      let message: unknown;
      try {
        message = (JSON.parse(reply.body) as { message?: unknown }).message;
      } catch {
        message = undefined;
      }
      if (
        reply.status < 400 ||
        reply.status > 499 ||
        reply.type !== 'application/json' ||
        typeof message !== 'string'
      ) {
        failures.push(
          `seed ${seed} request ${i} (${c.kind}, ${JSON.stringify(c.headers)}): ${reply.status} ${reply.body.slice(0, 200)}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  expect(failures.slice(0, 5)).toEqual([]);
  return kinds;
}

test('10,000 malformed requests: every answer a 4xx JSON error, /ping stays 200, the heap does not grow', async () => {
  await barrage(1, 500);
  const before = heapAfterGc();
  const kinds = await barrage(2, 10_000);
  const after = heapAfterGc();
  expect([...kinds.keys()].sort()).toEqual([
    'bad JSON shapes',
    'empty body',
    'huge numbers',
    'mixed widths',
    'oversize',
    'random bytes',
    'truncated CSV',
    'truncated RecordIO',
    'unsatisfiable Accept',
    'wrong Content-Type',
  ]);
  expect((await send(server.url, 'GET', '/ping')).status).toBe(200);
  expect(after - before).toBeLessThan(8 * 1024 * 1024);
}, 120_000);
