import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bindInputs, type DecodedBody } from '../../../src/serve/tensor/bind.js';
import { loadOnnxModel, type OnnxModel, RunCost } from '../../../src/serve/kinds/onnx/onnx.js';
import { outputRows } from '../../../src/serve/tensor/outputs.js';
import { tensorToNested } from '../../../src/serve/tensor/tensor.js';
import { makeOnnxFixtures, type OnnxFixtures } from './fixtures.js';

let fixtures: OnnxFixtures;
const opened: OnnxModel[] = [];

beforeAll(async () => {
  fixtures = await makeOnnxFixtures();
});
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
  await fixtures.remove();
});

async function open(name: string, execution: 'inline' | 'worker' | 'auto' = 'inline'): Promise<OnnxModel> {
  const model = await loadOnnxModel(path.join(fixtures.dir, name), { execution });
  opened.push(model);
  return model;
}

/** A body as the CSV codec decodes it: rows of floats. */
function rows(values: number[][]): DecodedBody {
  return { batch: { values: Float32Array.from(values.flat()) }, shape: [values.length, values[0]!.length] };
}

function named(inputs: Record<string, number[][]>): DecodedBody {
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [
      k,
      { shape: [v.length, v[0]!.length], values: Float32Array.from(v.flat()) },
    ]),
  );
  const first = Object.values(tensors)[0]!;
  return { batch: { values: first.values }, shape: first.shape, named: tensors };
}

function nested(outputs: Record<string, { type: string; shape: readonly number[]; data: unknown }>) {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, tensorToNested(v as never)]));
}

describe('ONNX models against numpy', () => {
  test.each(['inline', 'worker', 'auto'] as const)('linear model, %s execution', async (execution) => {
    const model = await open('linear', execution);
    const { inputs, outputs } = fixtures.expected['linear']!;
    expect(model.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 3] }]);
    const result = await model.predict(bindInputs(model.inputs, rows(inputs['x']!)));
    expect(nested(result)).toEqual(outputs);
    // Where auto runs depends on measured time (covered with fixed budgets below).
    if (execution !== 'auto') expect(model.stats[execution]).toBe(1);
  });

  test('worker execution from a process whose working directory is outside the checkout', async () => {
    // `smkit` run from any directory (the README's commands run in a fresh one): the worker thread
    // must find tsx from smkit's own node_modules, not from the working directory.
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      const model = await open('linear', 'worker');
      const { inputs, outputs } = fixtures.expected['linear']!;
      expect(nested(await model.predict(bindInputs(model.inputs, rows(inputs['x']!))))).toEqual(outputs);
    } finally {
      process.chdir(cwd);
    }
  });

  test('an MLP with two outputs', async () => {
    const model = await open('mlp');
    const { inputs, outputs } = fixtures.expected['mlp']!;
    const result = nested(await model.predict(bindInputs(model.inputs, rows(inputs['x']!))));
    for (const name of ['logits', 'probabilities']) {
      const want = outputs[name] as number[][];
      (result[name] as number[][]).forEach((row, i) => {
        row.forEach((v, j) => {
          expect(v).toBeCloseTo(want[i]![j]!, 5);
        });
      });
    }
  });

  test('an ONNX-ML tree ensemble classifier gives int64 labels and a probability tensor', async () => {
    const model = await open('trees');
    const { inputs } = fixtures.expected['trees']!;
    const result = await model.predict(bindInputs(model.inputs, rows(inputs['x']!)));
    expect(result['label']!.type).toBe('int64');
    expect(outputRows(result)).toMatchObject({
      rows: 3,
      fields: [
        { name: 'label', width: 1, scalar: true },
        { name: 'probabilities', width: 3, scalar: false },
      ],
      rootKey: 'predictions',
    });
    expect(Array.from(outputRows(result).columns['label']!)).toEqual([0, 2, 0]);
  });

  test('named inputs of other element types are converted (float64, int64)', async () => {
    const model = await open('mixed', 'worker');
    expect(model.inputs.map((i) => i.type)).toEqual(['float64', 'int64']);
    const { inputs, outputs } = fixtures.expected['mixed']!;
    const result = nested(await model.predict(bindInputs(model.inputs, named(inputs))));
    expect((result['s'] as number[][]).map(([v]) => Number(v!.toFixed(4)))).toEqual(
      (outputs['s'] as number[][]).map(([v]) => Number(v!.toFixed(4))),
    );
  });
});

describe('auto execution', () => {
  test('runs stay inline under the budget and move to a worker thread above it', async () => {
    const rows = bindInputs([{ name: 'x', type: 'float32', shape: ['batch', 3] }], {
      batch: { values: Float32Array.from([1, 2, 3]) },
      shape: [1, 3],
    });
    const cheap = await loadOnnxModel(path.join(fixtures.dir, 'linear'), { inlineBudgetMs: 1e9 });
    const costly = await loadOnnxModel(path.join(fixtures.dir, 'linear'), { inlineBudgetMs: 0 });
    opened.push(cheap, costly);
    for (let i = 0; i < 3; i++) {
      expect(nested(await cheap.predict(rows))).toEqual({ y: [[14.5]] });
      expect(nested(await costly.predict(rows))).toEqual({ y: [[14.5]] });
    }
    expect(cheap.stats).toEqual({ inline: 3, worker: 0 });
    expect(costly.stats).toEqual({ inline: 0, worker: 3 });
  });

  test('a busy event loop is not counted as run time: a tiny model stays inline', async () => {
    const rows = bindInputs([{ name: 'x', type: 'float32', shape: ['batch', 3] }], {
      batch: { values: Float32Array.from([1, 2, 3]) },
      shape: [1, 3],
    });
    const model = await loadOnnxModel(path.join(fixtures.dir, 'linear'), { inlineBudgetMs: 20 });
    opened.push(model);
    // Other requests' callbacks queued ahead of each run hold the thread for 30 ms in all: timed around
    // the await, every run would look like 30 ms and move to a worker.
    const busy = (): void => {
      for (let i = 0; i < 3; i++) {
        setImmediate(() => {
          const until = performance.now() + 10;
          while (performance.now() < until);
        });
      }
    };
    for (let i = 0; i < 5; i++) {
      busy();
      expect(nested(await model.predict(rows))).toEqual({ y: [[14.5]] });
    }
    expect(model.stats).toEqual({ inline: 5, worker: 0 });
  });

  test('the cost per row is the median of recent runs: one slow run changes nothing', () => {
    const cost = new RunCost(5);
    expect(cost.msPerRow()).toBeUndefined();
    for (const ms of [1, 1, 100, 1, 1]) cost.observe(ms * 10, 10);
    expect(cost.msPerRow()).toBe(1);
    for (const ms of [50, 50, 50]) cost.observe(ms, 1);
    expect(cost.msPerRow()).toBe(50);
  });
});

describe('bad requests and unsupported models', () => {
  test('a row of the wrong width names the expected shape', async () => {
    const model = await open('linear');
    expect(() => bindInputs(model.inputs, rows([[1, 2, 3, 4]]))).toThrow(
      "input 'x' expects shape [batch, 3] (got [1, 4]): each record needs 3 values",
    );
  });

  test('a multi-input model fed an unnamed body says how to name the inputs', async () => {
    const model = await open('mixed');
    expect(() => bindInputs(model.inputs, rows([[1, 2]]))).toThrow(
      `the model takes 2 inputs ('a' [N, 2], 'b' [N, 1]): send JSON {"inputs": {"a": [...], "b": [...]}}`,
    );
    expect(() => bindInputs(model.inputs, named({ a: [[1, 2]], c: [[1]] }))).toThrow(
      "unknown input 'c'; missing input 'b': the model takes 'a' [N, 2], 'b' [N, 1]",
    );
  });

  test('a fraction for an int64 input is refused, not truncated', async () => {
    const model = await open('mixed');
    expect(() => bindInputs(model.inputs, named({ a: [[1, 2]], b: [[1.5]] }))).toThrow(
      "input 'b' element 0 is 1.5, but the model takes int64",
    );
  });

  test('a ZipMap classifier loads but each prediction says how to export without ZipMap', async () => {
    const model = await open('trees-zipmap');
    expect(model.signature.nonTensorOutputs).toEqual(['output_probability']);
    await expect(model.predict(bindInputs(model.inputs, rows([[0.1, 5]])))).rejects.toThrow(
      /output 'output_probability' is a sequence or map .*options=\{'zipmap': False\}/,
    );
  });

  test('a file that is not ONNX fails the load naming the file', async () => {
    await expect(loadOnnxModel(path.join(fixtures.dir))).rejects.toThrow(
      /onnxruntime cannot load .*model\.onnx/,
    );
  });
});
