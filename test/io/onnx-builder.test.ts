import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder, attr } from '../../src/io/onnx-builder.js';
import { pythonReference } from '../helpers/python-reference.js';

/** y = relu(x W + b) and the row-wise argmax, a graph touching initializers, attributes and int64 constants. */
function buildSmallModel(): Uint8Array {
  const g = new OnnxGraphBuilder('small');
  const x = g.input('x', 'float32', ['N', 2]);
  const w = g.constant('w', [1, -1, 2, 0.5], [2, 2]);
  const b = g.constant('b', [0.5, -10], [2]);
  const y = g.op('Relu', [g.op('Gemm', [x, w, b], { alpha: attr.float(1), transB: attr.int(0) })]);
  const sum = g.op('ReduceSum', [y, g.int64s('axes', [1])], { keepdims: attr.int(0) });
  const best = g.op('ArgMax', [y], { axis: attr.int(1), keepdims: attr.int(0) });
  g.output(y, 'float32', ['N', 2], 'y');
  g.output(sum, 'float32', ['N'], 'row_sum');
  g.output(best, 'int64', ['N'], 'best');
  return g.build({ metadata: { algorithm: 'test' } });
}

describe('OnnxGraphBuilder', () => {
  it('writes a model that onnxruntime runs with the expected outputs', async () => {
    const session = await ort.InferenceSession.create(buildSmallModel());
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y', 'row_sum', 'best']);
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, -4]), [2, 2]);
    const out = await session.run({ x });
    // row 1: [1*1 + 2*2 + 0.5, 1*-1 + 2*0.5 - 10] = [5.5, -10] -> relu [5.5, 0]
    // row 2: [3 - 8 + 0.5, -3 - 2 - 10] = [-4.5, -15] -> [0, 0]
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([5.5, 0, 0, 0]);
    expect(Array.from(out['row_sum']!.data as Float32Array)).toEqual([5.5, 0]);
    expect(Array.from(out['best']!.data as BigInt64Array)).toEqual([0n, 0n]);
  });

  it('passes the onnx checker (python onnx)', () => {
    const script = [
      'import onnx, sys',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'print(m.opset_import[0].version, m.ir_version, m.metadata_props[0].key, [o.name for o in m.graph.output])',
    ].join('\n');
    const out = pythonReference('onnx-builder-checker', script, [buildSmallModel()]);
    expect(out.trim()).toBe("17 8 algorithm ['y', 'row_sum', 'best']");
  });

  it('rejects a reused value name and a tensor whose dims do not fit its data', () => {
    const g = new OnnxGraphBuilder('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow("value name 'x' is already used");
    expect(() => g.constant('c', [1, 2, 3], [2, 2])).toThrow('dims 2x2 do not hold 3 values');
  });
});
