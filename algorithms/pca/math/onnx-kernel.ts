import os from 'node:os';
import '../../../src/io/onnxruntime-env.js';
import ort from 'onnxruntime-node';
import { OnnxGraphBuilder, attr } from '../../../src/io/onnx-builder.js';
import type { PcaKernel } from './kernel.js';

function gramGraph(d: number): Uint8Array {
  const g = new OnnxGraphBuilder('pca_gram');
  const x = g.input('x', 'float32', ['N', d]);
  const c = g.input('shift', 'float32', [d]);
  const y = g.op('Sub', [x, c]);
  g.output(g.op('Gemm', [y, y], { transA: attr.int(1) }), 'float32', [d, d], 'gram');
  g.output(g.op('ReduceSum', [y, g.int64s('axes', [0])], { keepdims: attr.int(0) }), 'float32', [d], 'sums');
  return g.build();
}

function sketchGraph(d: number): Uint8Array {
  const g = new OnnxGraphBuilder('pca_sketch');
  const h = g.input('signs', 'float32', ['L', 'N']);
  const x = g.input('x', 'float32', ['N', d]);
  const c = g.input('shift', 'float32', [d]);
  const y = g.op('Sub', [x, c]);
  g.output(g.op('MatMul', [h, y]), 'float32', ['L', d], 'sketch');
  g.output(g.op('ReduceSum', [y, g.int64s('axes', [0])], { keepdims: attr.int(0) }), 'float32', [d], 'sums');
  return g.build();
}

function addInto(target: Float64Array, source: Float32Array): void {
  for (let i = 0; i < source.length; i++) target[i]! += source[i]!;
}

/**
 * The fast kernel: each chunk's products run as one float32 GEMM in ONNX Runtime (MLAS, all cores
 * unless `threads` says otherwise), and chunk results are added into the float64 accumulators, so
 * float32 sums never span more than one chunk.
 */
export async function createOnnxKernel(dim: number, threads?: number): Promise<PcaKernel> {
  const options: ort.InferenceSession.SessionOptions = {
    // One thread per available core unless told: left to itself the runtime used one of two vCPUs here.
    intraOpNumThreads: threads ?? os.availableParallelism(),
    // Idle pool threads sleep instead of spinning between the chunks' GEMMs: on a busy machine the
    // spinning doubled the CPU time of a pass (0.51 -> 0.97 s for 1M x 50) and slowed it 2x.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  let gram: ort.InferenceSession | undefined;
  let sketch: ort.InferenceSession | undefined;
  return {
    async gram(x, rows, shift, gramOut, sums) {
      gram ??= await ort.InferenceSession.create(gramGraph(dim), options);
      const out = await gram.run({
        x: new ort.Tensor('float32', x.subarray(0, rows * dim), [rows, dim]),
        shift: new ort.Tensor('float32', shift, [dim]),
      });
      addInto(gramOut, out['gram']!.data as Float32Array);
      addInto(sums, out['sums']!.data as Float32Array);
    },
    async sketch(signs, l, x, rows, shift, sketchOut, sums) {
      sketch ??= await ort.InferenceSession.create(sketchGraph(dim), options);
      const out = await sketch.run({
        signs: new ort.Tensor('float32', signs.subarray(0, l * rows), [l, rows]),
        x: new ort.Tensor('float32', x.subarray(0, rows * dim), [rows, dim]),
        shift: new ort.Tensor('float32', shift, [dim]),
      });
      addInto(sketchOut, out['sketch']!.data as Float32Array);
      addInto(sums, out['sums']!.data as Float32Array);
    },
    async close() {
      await gram?.release();
      await sketch?.release();
    },
  };
}
