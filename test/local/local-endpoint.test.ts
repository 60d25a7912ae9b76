import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type LocalEndpoint,
  type LocalEndpointOptions,
  startLocalEndpoint,
} from '../../src/local/local-endpoint.js';

const FAKE = path.resolve('test/fixtures/local/fake-serve.mjs');
let dir: string;
let modelTar: string;
const endpoints: LocalEndpoint[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-endpoint-test-'));
  await mkdir(path.join(dir, 'model/code'), { recursive: true });
  await writeFile(path.join(dir, 'model/model_algo-1'), 'weights');
  await writeFile(path.join(dir, 'model/code/inference.js'), '');
  modelTar = path.join(dir, 'model.tar.gz');
  await tar.c({ gzip: true, file: modelTar, cwd: path.join(dir, 'model') }, ['.']);
});
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()));
  await rm(dir, { recursive: true, force: true });
});

async function start(overrides: Partial<LocalEndpointOptions> = {}): Promise<LocalEndpoint> {
  const endpoint = await startLocalEndpoint({
    model: modelTar,
    port: 0,
    smkitCommand: [process.execPath, FAKE],
    parentEnv: { PATH: process.env.PATH },
    pollMs: 50,
    ...overrides,
  });
  endpoints.push(endpoint);
  return endpoint;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  method: string,
  body?: Buffer | string,
  headers: http.OutgoingHttpHeaders = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startLocalEndpoint', () => {
  it('serves the unpacked model read-only and passes only the headers SageMaker passes', async () => {
    const endpoint = await start();
    await endpoint.ready;
    expect((await request(`${endpoint.url}/ping`, 'GET')).status).toBe(200);
    const answer = await request(`${endpoint.url}/invocations`, 'POST', '1,2', {
      'content-type': 'text/csv',
      accept: 'application/x-report',
      'x-amzn-sagemaker-custom-attributes': 'trace=1',
      'x-other': 'dropped',
    });
    expect(answer.status).toBe(200);
    const report = JSON.parse(answer.body);
    expect(report.files).toEqual(['code', 'model_algo-1']);
    expect(report.headers).toEqual({
      host: expect.any(String),
      connection: expect.any(String),
      'content-type': 'text/csv',
      accept: 'application/x-report',
      'x-amzn-sagemaker-custom-attributes': 'trace=1',
      'content-length': '3',
    });
    expect(report.writable).toBe(false);
  });

  it('refuses bodies over 6 MiB with 413 and names the limit', async () => {
    const endpoint = await start();
    await endpoint.ready;
    const limit = 6 * 1024 * 1024;
    const fits = await request(`${endpoint.url}/invocations`, 'POST', Buffer.alloc(limit), {
      accept: 'application/x-report',
    });
    expect(JSON.parse(fits.body).bytes).toBe(limit);
    const over = await request(`${endpoint.url}/invocations`, 'POST', Buffer.alloc(limit + 1));
    expect(over.status).toBe(413);
    expect(over.headers['x-smkit-limit']).toBe('body-size');
    expect(JSON.parse(over.body).error).toMatch(
      /over SageMaker's 6 MiB limit for real-time endpoints \(6291456 bytes\)/,
    );
  });

  it('answers 504 when an invocation or a ping takes longer than the limit', async () => {
    const violations: string[] = [];
    const endpoint = await start({
      limits: { invocationTimeoutMs: 300, pingTimeoutMs: 300 },
      onViolation: (v) => violations.push(v.limit),
    });
    await endpoint.ready;
    const slow = await request(`${endpoint.url}/invocations`, 'POST', 'sleep');
    expect(slow.status).toBe(504);
    expect(JSON.parse(slow.body)).toEqual({
      limit: 'invocation-timeout',
      error: expect.stringMatching(/^the container did not answer within SageMaker's 0.3 s invocation limit/),
    });
    const ping = await request(`${endpoint.url}/ping?slow=1`, 'GET');
    expect(ping.status).toBe(504);
    expect(JSON.parse(ping.body).error).toMatch(/^\/ping took longer than SageMaker's 0.3 s limit/);
    expect(violations).toEqual(['invocation-timeout', 'ping-timeout']);
  });

  it('fails when the server never passes /ping within the startup window', async () => {
    const endpoint = await start({ limits: { startupMs: 300 }, env: { FAKE_START_DELAY_MS: '60000' } });
    await expect(endpoint.ready).rejects.toThrow(
      "the container did not answer /ping with 200 within SageMaker's startup window (0.3 s)",
    );
    const early = await request(`${endpoint.url}/invocations`, 'POST', '1');
    expect(early.status).toBe(503);
    expect(early.headers['x-smkit-limit']).toBe('not-in-service');
  });

  it('fails when the server exits before it is ready', async () => {
    const endpoint = await start({ env: { FAKE_EXIT: '3' } });
    await expect(endpoint.ready).rejects.toThrow(
      'the model server exited with code 3 before it answered /ping: cannot load model: boom',
    );
  });

  it('says the port is in use', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await expect(start({ port })).rejects.toThrow(
        `port ${port} is in use: stop what listens there, or pass --port with a free port`,
      );
    } finally {
      blocker.close();
    }
  });

  it('rejects archives nested one directory down and unsafe members', async () => {
    const nested = path.join(dir, 'nested.tar.gz');
    await tar.c({ gzip: true, file: nested, cwd: dir }, ['model']);
    await expect(start({ model: nested })).rejects.toThrow(
      `${nested} is nested one directory down (everything is under 'model/')`,
    );
    await symlink('/etc/passwd', path.join(dir, 'model/link'));
    const linked = path.join(dir, 'linked.tar.gz');
    await tar.c({ gzip: true, file: linked, cwd: path.join(dir, 'model') }, ['.']);
    await expect(start({ model: linked })).rejects.toThrow(
      `refusing to extract ${linked}: member './link' is a symbolic link to the absolute path '/etc/passwd'`,
    );
    const climbing = path.join(dir, 'climb.tar.gz');
    await tar.c({ gzip: true, file: climbing, cwd: path.join(dir, 'model/code'), preservePaths: true }, [
      '../model_algo-1',
    ]);
    await expect(start({ model: climbing })).rejects.toThrow(
      `refusing to extract ${climbing}: member '../model_algo-1' contains '..'`,
    );
  });
});
