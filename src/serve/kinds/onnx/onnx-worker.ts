/**
 * Worker-thread side of the ONNX pool: each worker opens its own session on the model once and runs the
 * tasks piscina hands it, so a long inference never blocks the HTTP thread.
 */
import { workerData } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { openSession, timedRunSession } from './onnx-session.js';
import type { HostTensor, NamedTensors } from '../../tensor/tensor.js';

/** One inference, as posted to a worker. */
export interface OnnxTask {
  readonly feeds: NamedTensors;
  readonly outputNames: readonly string[];
}

/** A task's outputs and how long the run took inside the worker. */
export interface OnnxTaskResult {
  readonly outputs: Record<string, HostTensor>;
  readonly ms: number;
}

const { modelPath, sessionOptions } = workerData as {
  modelPath: string;
  sessionOptions?: ort.InferenceSession.SessionOptions;
};
const session = openSession(modelPath, sessionOptions);
// A load failure surfaces on the first task; keep it from being an unhandled rejection meanwhile.
session.catch(() => {});

/** Runs one task on this worker's session. */
export default async function run(task: OnnxTask): Promise<OnnxTaskResult> {
  return timedRunSession(await session, task.feeds, task.outputNames);
}
