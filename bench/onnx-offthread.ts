/**
 * Where should onnxruntime-node run? Its `run()` holds the calling thread, so a heavy model served inline
 * stalls /ping; a worker-thread hop costs more than a tiny model's whole inference. This benchmark serves
 * the same two models through the real app in each execution mode and measures, in the same run:
 *
 *   - heavy MLP (256 -> 8 x 1024 -> 10, 256-row batches): inference time, and /ping latency (p50/p99/max)
 *     while invocations run back to back, plus the event-loop delay of the serving thread;
 *   - tiny linear model (1 row): sequential invocations per second.
 *
 *   npm run build && node dist/bench/onnx-offthread.js [--rounds N]
 *
 * Results go to bench/results/onnx-offthread.json.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { pino } from 'pino';
import { readServingSettings } from '../src/contract/index.js';
import { createApp } from '../src/serve/app.js';
import { loadOnnxModel, type OnnxExecution } from '../src/serve/kinds/onnx/onnx.js';
import { createTensorHandler } from '../src/serve/tensor/tensor-handler.js';

const PYTHON = '/usr/bin/python3';
const HEAVY_ROWS = 256;

const HEAVY_MODEL = `
import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper, save
rng = np.random.default_rng(1)
sizes = [256] + [1024] * 8 + [10]
nodes, inits, prev = [], [], "x"
for i in range(len(sizes) - 1):
    w = (rng.normal(size=(sizes[i], sizes[i + 1])) / np.sqrt(sizes[i])).astype(np.float32)
    inits.append(numpy_helper.from_array(w, f"W{i}"))
    out = "y" if i == len(sizes) - 2 else f"h{i}"
    nodes.append(helper.make_node("MatMul", [prev, f"W{i}"], [out if out == "y" else f"m{i}"]))
    if out != "y":
        nodes.append(helper.make_node("Relu", [f"m{i}"], [out]))
    prev = out
graph = helper.make_graph(nodes, "heavy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
save(model, sys.argv[1])
`;

function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
}

interface Server {
  readonly url: string;
  close(): Promise<void>;
}

async function serve(modelDir: string, execution: OnnxExecution): Promise<Server> {
  const log = pino({ level: 'silent' });
  const settings = readServingSettings({ SAGEMAKER_MODEL_SERVER_WORKERS: '1' });
  const model = await loadOnnxModel(modelDir, { execution });
  const app = createApp({ handler: createTensorHandler(model), settings, log });
  const server = http.createServer(app.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function send(url: string, route: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${route}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        agent,
        headers:
          body === undefined ? {} : { 'Content-Type': 'text/csv', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Heavy model: invocations back to back for `seconds`, /ping every 20 ms from the same client process. */
async function heavy(modelDir: string, execution: OnnxExecution, seconds: number) {
  const server = await serve(modelDir, execution);
  const row = Array.from({ length: 256 }, (_, i) => ((i % 7) / 7).toFixed(3)).join(',');
  const body = `${Array(HEAVY_ROWS).fill(row).join('\n')}\n`;
  await send(server.url, '/invocations', body); // warm up (worker start, first-run allocations)
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const deadline = performance.now() + seconds * 1000;
  const inference: number[] = [];
  const pings: number[] = [];
  const invoker = (async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      const status = await send(server.url, '/invocations', body);
      if (status !== 200) throw new Error(`invocation answered ${status}`);
      inference.push(performance.now() - start);
    }
  })();
  const pinger = (async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      await send(server.url, '/ping');
      pings.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await Promise.all([invoker, pinger]);
  lag.disable();
  await server.close();
  pings.sort((a, b) => a - b);
  inference.sort((a, b) => a - b);
  return {
    invocations: inference.length,
    inferenceMsMedian: round(quantile(inference, 0.5)),
    pingMsP50: round(quantile(pings, 0.5)),
    pingMsP99: round(quantile(pings, 0.99)),
    pingMsMax: round(pings.at(-1) ?? Number.NaN),
    eventLoopDelayMsMax: round(lag.max / 1e6),
  };
}

/** Tiny model: sequential one-row invocations for `seconds`. */
async function tiny(modelDir: string, execution: OnnxExecution, seconds: number) {
  const server = await serve(modelDir, execution);
  for (let i = 0; i < 200; i++) await send(server.url, '/invocations', '1,2,3');
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await send(server.url, '/invocations', '1,2,3');
    count++;
  }
  const elapsed = (performance.now() - start) / 1000;
  await server.close();
  return { requestsPerSecond: Math.round(count / elapsed) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
  const seconds = Number(values.seconds);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-bench-onnx-'));
  try {
    await promisify(execFile)(PYTHON, [path.join(repoRoot(), 'test/fixtures/make-onnx.py'), dir]);
    await mkdir(path.join(dir, 'heavy'));
    const script = path.join(dir, 'heavy.py');
    await writeFile(script, HEAVY_MODEL);
    await promisify(execFile)(PYTHON, [script, path.join(dir, 'heavy', 'model.onnx')]);
    const modes: OnnxExecution[] = ['inline', 'worker', 'auto'];
    const results: Record<string, unknown> = {};
    for (const mode of modes) {
      const h = await heavy(path.join(dir, 'heavy'), mode, seconds);
      const t = await tiny(path.join(dir, 'linear'), mode, seconds);
      results[mode] = { heavy: h, tiny: t };
      console.log(mode, JSON.stringify(results[mode]));
    }
    const get = (mode: string) =>
      results[mode] as { heavy: { pingMsP99: number }; tiny: { requestsPerSecond: number } };
    const ratios = {
      pingP99InlineOverWorker: round(get('inline').heavy.pingMsP99 / get('worker').heavy.pingMsP99),
      pingP99InlineOverAuto: round(get('inline').heavy.pingMsP99 / get('auto').heavy.pingMsP99),
      tinyAutoOverWorker: round(get('auto').tiny.requestsPerSecond / get('worker').tiny.requestsPerSecond),
      tinyAutoOverInline: round(get('auto').tiny.requestsPerSecond / get('inline').tiny.requestsPerSecond),
    };
    console.log('ratios', JSON.stringify(ratios));
    const out = path.join(repoRoot(), 'bench/results/onnx-offthread.json');
    await mkdir(path.dirname(out), { recursive: true });
    const report = {
      date: new Date().toISOString(),
      cpus: os.availableParallelism(),
      load: os.loadavg(),
      seconds,
      results,
      ratios,
    };
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
