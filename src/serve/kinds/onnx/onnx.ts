/**
 * ONNX models (`model.onnx`, a model trained elsewhere) served with onnxruntime-node.
 *
 * onnxruntime-node's `run()` holds the calling thread for the whole inference, so where it runs matters:
 * small inferences run inline (a worker hop would cost more than the work), large ones on a worker
 * thread (piscina) that owns its own session, so /ping keeps answering. In `auto` mode the choice is made
 * per request from the measured time per row.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as ort from 'onnxruntime-node';
import { Piscina } from 'piscina';
import { HttpError } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { ONNX_MODEL_FILE } from './marker.js';
import type { TensorModel } from '../../tensor/model.js';
import type { OnnxTask, OnnxTaskResult } from './onnx-worker.js';
import {
  nonTensorOutputMessage,
  type OnnxSignature,
  openSession,
  readSignature,
  timedRunSession,
} from './onnx-session.js';
import { allocate, type HostTensor, type NamedTensors, sizeOf } from '../../tensor/tensor.js';

/** Where inferences run. */
export type OnnxExecution = 'inline' | 'worker' | 'auto';

/** Options of {@link loadOnnxModel}. */
export interface OnnxModelOptions {
  /**
   * `inline`: on the calling thread (fastest for tiny models, blocks the event loop while it runs);
   * `worker`: always on a worker thread; `auto` (default): inline while the expected run time, from the
   * time per row measured so far, is under `inlineBudgetMs`, else on a worker.
   */
  readonly execution?: OnnxExecution;
  /** Expected run time under which `auto` stays inline (default 2 ms). */
  readonly inlineBudgetMs?: number;
  /** Worker threads, each with its own session (default 1). */
  readonly threads?: number;
  /**
   * onnxruntime's session options (default `SESSION_OPTIONS`; `COMPACT_SESSION_OPTIONS` for one of
   * many models in a process).
   */
  readonly sessionOptions?: ort.InferenceSession.SessionOptions;
  readonly logger?: Logger;
}

/** A loaded ONNX model. */
export interface OnnxModel extends TensorModel {
  readonly signature: OnnxSignature;
  /** How many runs went inline and to workers (for logs and tests). */
  readonly stats: { inline: number; worker: number };
}

function workerFile(): { filename: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const filename = path.join(path.dirname(here), `onnx-worker${ext}`);
  // From a checkout (tests, tsx) the worker is TypeScript: load it through tsx as the parent does, found
  // from this module (a bare `--import tsx` resolves from the working directory, which may be anywhere).
  if (ext !== '.ts') return { filename, execArgv: [] };
  return {
    filename,
    execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
  };
}

/**
 * Milliseconds per row: the median of the last runs, so one run slowed down by a busy machine does not
 * send the following small requests to a worker. Undefined until the first run.
 */
export class RunCost {
  readonly #samples: number[] = [];
  #next = 0;

  constructor(readonly window = 15) {}

  observe(ms: number, rows: number): void {
    const perRow = ms / Math.max(rows, 1);
    if (this.#samples.length < this.window) this.#samples.push(perRow);
    else this.#samples[this.#next] = perRow;
    this.#next = (this.#next + 1) % this.window;
  }

  msPerRow(): number | undefined {
    if (this.#samples.length === 0) return undefined;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }
}

/** One row of zeros for every input, dynamic dimensions set to 1: the warm-up run. */
function zeroFeeds(signature: OnnxSignature): NamedTensors {
  const feeds: Record<string, HostTensor> = {};
  for (const spec of signature.inputs) {
    const shape = spec.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    feeds[spec.name] = { type: spec.type, shape, data: allocate(spec.type, sizeOf(shape)) };
  }
  return feeds;
}

function rowsOf(feeds: NamedTensors): number {
  let rows = 1;
  for (const tensor of Object.values(feeds)) rows = Math.max(rows, tensor.shape[0] ?? 1);
  return rows;
}

/**
 * Opens `modelDir/model.onnx` and reads its signature. Sequence or map outputs (ZipMap) do not fail the
 * load: the server comes up and each request answers 500 with a message saying how to re-export.
 * @example const model = await loadOnnxModel('/opt/ml/model'); await model.predict({ x: tensor })
 */
export async function loadOnnxModel(modelDir: string, options: OnnxModelOptions = {}): Promise<OnnxModel> {
  const modelPath = path.join(modelDir, ONNX_MODEL_FILE);
  const execution = options.execution ?? 'auto';
  const budget = options.inlineBudgetMs ?? 2;
  const sessionOptions = options.sessionOptions;
  const first = await openSession(modelPath, sessionOptions);
  const signature = readSignature(first);
  if (signature.nonTensorOutputs.length > 0) {
    options.logger?.warn(
      { outputs: signature.nonTensorOutputs },
      nonTensorOutputMessage(signature.nonTensorOutputs),
    );
  }
  const outputNames = signature.outputs.map((o) => o.name);
  let inlineSession: ort.InferenceSession | undefined = execution === 'worker' ? undefined : first;
  if (execution === 'worker') await first.release();
  let pool: Piscina<OnnxTask, OnnxTaskResult> | undefined;
  const stats = { inline: 0, worker: 0 };

  const workers = () => {
    if (!pool) {
      const threads = options.threads ?? 1;
      pool = new Piscina({
        ...workerFile(),
        workerData: { modelPath, sessionOptions },
        minThreads: threads,
        maxThreads: threads,
      });
    }
    return pool;
  };
  const cost = new RunCost();
  const observe = (ms: number, rows: number) => cost.observe(ms, rows);
  if (execution === 'auto') {
    try {
      const feeds = zeroFeeds(signature);
      await timedRunSession(first, feeds, outputNames); // the first run allocates; time the second
      observe((await timedRunSession(first, feeds, outputNames)).ms, 1);
    } catch {
      // Some models reject all-zero inputs; the first request then runs on a worker and is measured there.
    }
  }
  const goesInline = (rows: number) => {
    if (execution !== 'auto') return execution === 'inline';
    const perRow = cost.msPerRow();
    return perRow !== undefined && perRow * rows < budget;
  };

  return {
    kind: 'onnx',
    inputs: signature.inputs,
    outputs: signature.outputs,
    signature,
    stats,
    async predict(inputs) {
      if (signature.nonTensorOutputs.length > 0) {
        // A 500 whose message reaches the caller: the fix is in how the model was exported.
        throw new HttpError(500, nonTensorOutputMessage(signature.nonTensorOutputs));
      }
      const rows = rowsOf(inputs);
      if (goesInline(rows)) {
        inlineSession ??= await openSession(modelPath, sessionOptions);
        const { outputs, ms } = await timedRunSession(inlineSession, inputs, outputNames);
        stats.inline++;
        observe(ms, rows);
        return outputs;
      }
      const done = await workers().run({ feeds: inputs, outputNames });
      stats.worker++;
      observe(done.ms, rows);
      return done.outputs;
    },
    async close() {
      await pool?.destroy();
      await inlineSession?.release();
    },
  };
}
