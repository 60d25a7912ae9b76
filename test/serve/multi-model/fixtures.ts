/** Model directories for the multi-model tests, laid out as the platform extracts them. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { attr, OnnxGraphBuilder } from '../../../src/io/onnx-builder.js';
import { kmeansModelFile } from '../helpers.js';

/** y = x W + b for 4 features and 2 outputs: a small ONNX scorer, built without python. */
export function linearOnnx(scale = 1): Uint8Array {
  const g = new OnnxGraphBuilder('linear');
  const x = g.input('x', 'float32', ['N', 4]);
  const w = g.constant(
    'w',
    [1, 0, 0, 1, 0, 1, 1, 0].map((v) => v * scale),
    [4, 2],
  );
  const b = g.constant('b', [0.5, -0.5], [2]);
  g.output(g.op('Add', [g.op('MatMul', [x, w]), b]), 'float32', ['N', 2], 'y');
  return g.build();
}

/** Writes `<root>/<name>/model/<file>` for each file and returns the model url. */
export async function writeModel(
  root: string,
  name: string,
  files: Record<string, Uint8Array | string>,
): Promise<string> {
  const dir = path.join(root, name, 'model');
  await mkdir(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(dir, file), bytes);
  return dir;
}

/** A k-means model (the 3 test centroids, shifted by `shift` so models differ). */
export function kmeansFiles(shift = 0): Record<string, Uint8Array> {
  const centroids = new Float32Array([0, 0, 0, 0, 10, 10, 10, 10, 1, 2, 3, 4]).map((v) => v + shift);
  return { 'model_algo-1': kmeansModelFile(centroids) };
}

/**
 * An ONNX model holding 16 MB of weights (4M float32) that every run reads, so a session that is never
 * freed shows in RSS: y = weights[int(x)] (Gather; nothing to constant-fold away).
 */
export function heavyOnnx(): Uint8Array {
  const g = new OnnxGraphBuilder('heavy');
  const x = g.input('x', 'float32', ['N', 4]);
  const weights = g.constant('weights', new Float32Array(4 * 1024 * 1024).fill(0.25), [4 * 1024 * 1024]);
  const index = g.op('Cast', [x], { to: attr.int(7) });
  g.output(g.op('Gather', [weights, index], { axis: attr.int(0) }), 'float32', ['N', 4], 'y');
  return g.build();
}
