import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request, type TestServer } from '../helpers.js';
import { makeOnnxFixtures, type OnnxFixtures } from './fixtures.js';
import { serveModel } from './serve-model.js';

let fixtures: OnnxFixtures;
const servers: Record<string, TestServer> = {};

beforeAll(async () => {
  fixtures = await makeOnnxFixtures();
  for (const name of ['linear', 'trees', 'mixed', 'trees-zipmap']) {
    servers[name] = await serveModel(path.join(fixtures.dir, name));
  }
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  await fixtures.remove();
});

const invoke = (model: string, contentType: string, body: string, accept?: string) =>
  request(servers[model]!.url, {
    headers: { 'Content-Type': contentType, ...(accept ? { Accept: accept } : {}) },
    body,
  });

describe('ONNX-ML tree ensemble', () => {
  test('labels and class probabilities per row', async () => {
    const reply = await invoke('trees', 'application/json', '[[0.1, 5.0], [0.9, -1.0]]');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      predictions: [
        { label: 0, probabilities: [0.7, 0.2, 0.1] },
        { label: 2, probabilities: [0.1, 0.3, 0.6] },
      ],
    });
    const csv = await invoke('trees', 'application/json', '[[0.1, 5.0]]', 'text/csv');
    expect(csv.text).toBe('0.0,0.7,0.2,0.1\n');
  });

  test('a ZipMap output answers 500 saying how to export without ZipMap, with the request id', async () => {
    const reply = await invoke('trees-zipmap', 'application/json', '[[0.1, 5.0]]');
    expect(reply.status).toBe(500);
    const body = reply.json() as { message: string; requestId: string };
    expect(body.message).toMatch(/output 'output_probability' is a sequence or map.*'zipmap': False/);
    expect(body.requestId).toMatch(/\S/);
  });
});

describe('two inputs of other element types', () => {
  test('named inputs are converted to float64 and int64', async () => {
    const reply = await invoke('mixed', 'application/json', '{"inputs": {"a": [[1.5, 2.25]], "b": [[10]]}}');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"predictions": [{"s": [13.75]}]}');
  });

  test('an unnamed body gets a 400 saying how to name the inputs', async () => {
    const reply = await invoke('mixed', 'application/json', '[[1, 2]]');
    expect(reply.status).toBe(400);
    expect((reply.json() as { message: string }).message).toBe(
      `the model takes 2 inputs ('a' [N, 2], 'b' [N, 1]): send JSON {"inputs": {"a": [...], "b": [...]}}`,
    );
  });
});

describe('custom attributes', () => {
  test('custom attributes are not echoed by ONNX models', async () => {
    const reply = await request(servers['linear']!.url, {
      headers: { 'Content-Type': 'application/json', 'X-Amzn-SageMaker-Custom-Attributes': 'trace=1' },
      body: '[[1, 2, 3]]',
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-amzn-sagemaker-custom-attributes']).toBeUndefined();
  });
});
