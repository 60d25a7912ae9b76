/**
 * What a hostile client and a new user found (issue 13, Serving), each asserted as the whole response a
 * client sees: status, content type and JSON body.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import { attr, OnnxGraphBuilder } from '../../src/io/onnx-builder.js';
import { createApp } from '../../src/serve/app.js';
import { loadModel } from '../../src/serve/kinds/kind.js';
import { defaultModelKinds as kinds } from '../../src/serve/kinds/index.js';
import { listen, type RunningServer } from '../../src/serve/listen.js';
import {
  kmeansModelFile,
  quietLog,
  type Reply,
  request,
  settingsFrom,
  startApp,
  type TestServer,
} from './helpers.js';

let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'smkit-hardening-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A model directory holding `files` (relative path -> bytes). */
async function modelDir(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = path.join(root, `model-${count++}`);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  return dir;
}

async function serveDir(dir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const settings = settingsFrom(env);
  const server = await startApp({
    settings,
    loadHandler: () => loadModel(dir, { settings, log: quietLog, kinds }),
  });
  await server.app.loaded;
  return server;
}

/** The parts of a JSON error answer a client relies on. */
function errorOf(reply: Reply): { status: number; type: unknown; error: unknown; message: string } {
  const body = reply.json() as { error?: unknown; message?: unknown };
  return {
    status: reply.status,
    type: reply.headers['content-type'],
    error: body.error,
    message: String(body.message),
  };
}

/** y = x W (3 -> 2) and label = argmax(y), an int64 output, as a classifier exported to ONNX gives. */
function classifierOnnx(): Uint8Array {
  const g = new OnnxGraphBuilder('classifier');
  const x = g.input('x', 'float32', ['N', 3]);
  const w = g.constant('w', [1, 0, 0, 1, 1, -1], [3, 2]);
  const y = g.op('MatMul', [x, w]);
  const label = g.op('ArgMax', [y], { axis: attr.int(1), keepdims: attr.int(0) });
  g.output(y, 'float32', ['N', 2], 'scores');
  g.output(label, 'int64', ['N'], 'label');
  return g.build();
}

describe('hostile JSON against the built-in k-means model', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serveDir(await modelDir({ 'model_algo-1': kmeansModelFile() }));
  });
  afterAll(() => server.close());

  const post = (body: string, type = 'application/json', accept = 'application/json') =>
    request(server.url, { headers: { 'Content-Type': type, Accept: accept }, body });

  const deep = '['.repeat(100_000);
  test.each([
    ['a bare list', `${deep}${']'.repeat(100_000)}`, 'application/json'],
    ['inside "instances"', `{"instances": ${deep}}`, 'application/json'],
    ['inside "inputs"', `{"inputs": {"x": ${deep}}}`, 'application/json'],
    ['on a JSON Lines line', `[1,2,3,4]\n${deep}\n`, 'application/jsonlines'],
  ])('JSON nested 100,000 levels deep (%s) is a 400 naming the depth limit', async (_name, body, type) => {
    expect(errorOf(await post(body, type))).toEqual({
      status: 400,
      type: 'application/json',
      error: 'Bad Request',
      message: expect.stringMatching(/nests lists or objects more than 64 levels deep/),
    });
    expect((await post('[1,2,3,4]')).status).toBe(200);
  });

  const oneHuge = '{"keys":[0],"shape":[1000000000000],"values":[1]}';
  const hundredWide = JSON.stringify({
    instances: Array.from({ length: 100 }, () => ({
      data: { features: { keys: [0], shape: [100_000_000], values: [1] } },
    })),
  });
  test.each([
    ['one row of width 10^12 (JSON)', oneHuge, 'application/json'],
    ['one row of width 10^12 (JSON Lines)', `${oneHuge}\n`, 'application/jsonlines'],
    ['100 rows of width 10^8 in 6 KB (JSON)', hundredWide, 'application/json'],
    ['100 rows of width 10^8 (JSON Lines)', `${hundredWide}\n`, 'application/jsonlines'],
  ])('a sparse shape that would expand past the limit (%s) is a 413 naming it', async (_name, body, type) => {
    expect(body.length).toBeLessThan(8000);
    expect(errorOf(await post(body, type))).toEqual({
      status: 413,
      type: 'application/json',
      error: 'Payload Too Large',
      message: expect.stringMatching(
        /more than the 16777216 \(64 MiB of float32\) smkit decodes per request/,
      ),
    });
  });

  test('many small sparse lines that add up past the limit are a 413 too', async () => {
    const line = '{"keys":[0],"shape":[4000000],"values":[1]}\n';
    expect(errorOf(await post(line.repeat(5), 'application/jsonlines'))).toMatchObject({
      status: 413,
      message:
        'line 5: 1 instance would expand to 4000000 values (1 x 4000000, after 16000000 in the lines ' +
        'before), more than the 16777216 (64 MiB of float32) smkit decodes per request; send fewer rows ' +
        'per request or a smaller "shape"',
    });
  });

  test('a 2-D sparse shape is a 400 saying a sparse row is one flat row', async () => {
    const body =
      '{"instances": [{"data": {"features": {"keys": [0, 5], "shape": [4, 4], "values": [1, 2]}}}]}';
    expect(errorOf(await post(body))).toEqual({
      status: 400,
      type: 'application/json',
      error: 'Bad Request',
      message:
        'instance 1: "shape": [4, 4] has 2 dimensions; a sparse row is one flat row, "shape": [width]: ' +
        'flatten the features row-major and give keys in the flat row',
    });
    // The 1-D form of the same row still works.
    const flat = await post('{"keys": [0, 3], "shape": [4], "values": [1, 2]}');
    expect(flat.status).toBe(200);
  });

  test('a ragged list whose first row declares a huge tensor is a 400, not an allocation', async () => {
    const first = `[${Array.from({ length: 300 }, () => `[${'0,'.repeat(299)}0]`).join(',')}]`;
    const body = `[${first},${'0,'.repeat(2000)}0]`;
    expect(errorOf(await post(body))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^instance\[1\]: expected a list of 300 items/),
    });
  });

  test('Accept: */*;q=0 refuses every type: 406, not the default', async () => {
    expect(errorOf(await post('[1,2,3,4]', 'application/json', '*/*;q=0'))).toEqual({
      status: 406,
      type: 'application/json',
      error: 'Not Acceptable',
      message: expect.stringMatching(
        /^cannot answer with Accept: \*\/\*;q=0; this model answers application\/json/,
      ),
    });
    expect((await post('[1,2,3,4]', 'application/json', '*/*')).status).toBe(200);
  });
});

describe('an ONNX model and the documented hook defaults', () => {
  test('width errors name the ONNX input and its shape, not feature_dim', async () => {
    const server = await serveDir(await modelDir({ 'model.onnx': classifierOnnx() }));
    try {
      const csv = await request(server.url, {
        headers: { 'Content-Type': 'text/csv' },
        body: '1,2,3\n1,2,3,4\n',
      });
      const error = errorOf(csv);
      expect(error).toEqual({
        status: 400,
        type: 'application/json',
        error: 'Bad Request',
        message: expect.stringContaining("expected 3 columns (the width of input 'x' [N, 3]), got 4"),
      });
      expect(error.message).not.toMatch(/feature_dim/);
      const npy = encodeNpy({ dtype: 'float32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) });
      const npyError = errorOf(
        await request(server.url, { headers: { 'Content-Type': 'application/x-npy' }, body: npy }),
      );
      expect(npyError).toMatchObject({ status: 400, message: expect.stringContaining("input 'x' [N, 3]") });
      expect(npyError.message).not.toMatch(/feature_dim/);
    } finally {
      await server.close();
    }
  });

  test('a JSON body naming an input the model does not have is a 400 naming the model inputs', async () => {
    const server = await serveDir(await modelDir({ 'model.onnx': classifierOnnx() }));
    try {
      const reply = await request(server.url, {
        headers: { 'Content-Type': 'application/json' },
        body: '{"inputs": {"pixels": [[1, 2, 3]]}}',
      });
      expect(errorOf(reply)).toEqual({
        status: 400,
        type: 'application/json',
        error: 'Bad Request',
        message: "unknown input 'pixels'; missing input 'x': the model takes 'x' [N, 3]",
      });
      const right = await request(server.url, {
        headers: { 'Content-Type': 'application/json' },
        body: '{"inputs": {"x": [[1, 2, 3]]}}',
      });
      expect(right.json()).toEqual({ predictions: [{ scores: [4, -1], label: 0 }] });
    } finally {
      await server.close();
    }
  });

  test('predictFn calling model.predict(data), as the README says the default does, and an outputFn that JSON.stringifies int64 outputs', async () => {
    const code = `
export async function predictFn(data, model, context) {
  return model.predict(data);
}
export function outputFn(prediction, accept) {
  return { body: JSON.stringify({ label: prediction.label, labels: Array.from(prediction.label.data) }), contentType: 'application/json' };
}
`;
    const dir = await modelDir({ 'model.onnx': classifierOnnx(), 'code/inference.mjs': code });
    const server = await serveDir(dir);
    try {
      const reply = await request(server.url, {
        headers: { 'Content-Type': 'text/csv' },
        body: '1,2,3\n0,5,0\n',
      });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.json()).toEqual({
        label: { type: 'float64', shape: [2], data: { 0: 0, 1: 1 } },
        labels: [0, 1],
      });
    } finally {
      await server.close();
    }
  });

  test('an inputFn returning JSON.parse(body) of a deeply nested body: a 400 from the default predict, not a stack overflow', async () => {
    const code = 'export const inputFn = (body) => JSON.parse(body.toString());\n';
    const server = await serveDir(
      await modelDir({ 'model.onnx': classifierOnnx(), 'code/inference.mjs': code }),
    );
    try {
      const post = (body: string) =>
        request(server.url, { headers: { 'Content-Type': 'application/json' }, body });
      expect(errorOf(await post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toEqual({
        status: 400,
        type: 'application/json',
        error: 'Bad Request',
        message: 'input nests lists more than 64 levels deep; a tensor needs one per dimension',
      });
      expect((await post('[[1, 2, 3]]')).json()).toEqual({ predictions: [{ scores: [4, -1], label: 0 }] });
    } finally {
      await server.close();
    }
  });

  test('a TensorFlow SavedModel in a version directory (1/saved_model.pb) gets the same refusal with both conversions', async () => {
    const server = await serveDir(
      await modelDir({ '1/saved_model.pb': 'pb', '1/variables/variables.index': '' }),
    );
    try {
      expect(server.app.state()).toBe('failed');
      const reply = await request(server.url, { headers: { 'Content-Type': 'text/csv' }, body: '1' });
      expect(errorOf(reply)).toMatchObject({
        status: 503,
        type: 'application/json',
        message: expect.stringMatching(
          /the model failed to load: .* holds a TensorFlow SavedModel \(1\/saved_model\.pb\), which smkit cannot run: .*tensorflowjs_converter.*tf2onnx/,
        ),
      });
      const ping = await request(server.url, { method: 'GET', path: '/ping' });
      expect(errorOf(ping)).toMatchObject({
        status: 503,
        message: expect.stringMatching(
          /^the model failed to load: .*TensorFlow SavedModel \(1\/saved_model\.pb\)/,
        ),
      });
    } finally {
      await server.close();
    }
  });
});

/** Sends raw bytes and reads whatever comes back until the server closes or `waitMs` passes. */
function raw(port: number, chunks: readonly (string | Buffer)[], waitMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, waitMs);
    socket.on('data', (data) => {
      answer += data.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
    for (const chunk of chunks) socket.write(chunk);
  });
}

/** Status, Content-Type and JSON body of a raw HTTP/1.1 answer. */
function parseRaw(answer: string): { status: number; type: string | undefined; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  const type = /content-type: ([^\r\n]+)/i.exec(head)?.[1];
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = body;
  }
  return { status, type, body: json };
}

describe('protocol abuse answered with JSON errors', () => {
  let running: RunningServer;
  beforeAll(async () => {
    const settings = settingsFrom({ SAGEMAKER_MODEL_SERVER_TIMEOUT: '1' });
    const dir = await modelDir({ 'model_algo-1': kmeansModelFile() });
    const app = createApp({
      settings,
      log: quietLog,
      loadHandler: () => loadModel(dir, { settings, log: quietLog, kinds }),
    });
    await app.loaded;
    running = await listen(app, { port: 0, host: '127.0.0.1', drainMs: 1000 });
  });
  afterAll(() => running.stop());

  test.each([
    [
      'a Content-Length that is not a number',
      'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: abc\r\n\r\n1,2,3,4',
      400,
    ],
    [
      'two different Content-Lengths',
      'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 3\r\n\r\n1,2,3,4',
      400,
    ],
    [
      'chunked garbage',
      'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n1,2\r\n0\r\n\r\n',
      400,
    ],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400],
    ['headers over 16 KiB', `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s', async (_name, bytes, status) => {
    const answer = parseRaw(await raw(running.port, [bytes]));
    expect(answer).toEqual({
      status,
      type: 'application/json',
      body: { error: expect.any(String), message: expect.any(String) },
    });
    expect((await request(`http://127.0.0.1:${running.port}`, { method: 'GET', path: '/ping' })).status).toBe(
      200,
    );
  });

  test('a body that stops arriving is a 408 after SAGEMAKER_MODEL_SERVER_TIMEOUT and the connection closes', async () => {
    const answer = parseRaw(
      await raw(running.port, [
        'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n1,2,',
      ]),
    );
    expect(answer).toEqual({
      status: 408,
      type: 'application/json',
      body: {
        error: 'Request Timeout',
        message: 'the request body did not arrive within 1 s (SAGEMAKER_MODEL_SERVER_TIMEOUT)',
        requestId: expect.any(String),
      },
    });
  });
});
