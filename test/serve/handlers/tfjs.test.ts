import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bindInputs } from '../../../src/serve/tensor/bind.js';
import { tensorToNested } from '../../../src/serve/tensor/tensor.js';
import { fileSystem, initTfjsBackend, loadTfjsModel } from '../../../src/serve/kinds/tfjs/tfjs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-tfjs-'));
  await initTfjsBackend();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const X = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
  [0.5, 0.2],
];

/** Trains y = 2a - b + 1 for a few epochs and saves it through the file-system handler. */
async function trainLayersModel(target: string): Promise<tf.Sequential> {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 4, inputShape: [2], activation: 'relu', kernelInitializer: 'ones' }));
  model.add(tf.layers.dense({ units: 1, kernelInitializer: 'ones' }));
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  const xs = tf.tensor2d(X);
  const ys = tf.tensor2d(X.map(([a, b]) => [2 * a! - b! + 1]));
  await model.fit(xs, ys, { epochs: 5, verbose: 0 });
  tf.dispose([xs, ys]);
  await model.save(fileSystem(target));
  return model;
}

describe('TF.js layers model', () => {
  test('trained, saved with the fs handler, loaded by the handler: same predictions', async () => {
    const target = path.join(dir, 'layers');
    const trained = await trainLayersModel(target);
    const expected = (trained.predict(tf.tensor2d(X)) as tf.Tensor).arraySync() as number[][];
    const model = await loadTfjsModel(target);
    expect(model.format).toBe('layers-model');
    expect(model.backend).toBe('wasm');
    expect(model.inputs).toEqual([
      { name: trained.inputs[0]!.sourceLayer.name, type: 'float32', shape: [null, 2] },
    ]);
    expect(model.outputs.map((o) => o.name)).toEqual([trained.layers[1]!.name]);
    const body = { batch: { values: Float32Array.from(X.flat()) }, shape: [X.length, 2] };
    const result = await model.predict(bindInputs(model.inputs, body));
    const got = tensorToNested(result[model.outputs[0]!.name]!) as number[][];
    got.forEach((row, i) => {
      expect(row[0]).toBeCloseTo(expected[i]![0]!, 5);
    });
    expect(() => bindInputs(model.inputs, { batch: { values: new Float32Array(3) }, shape: [1, 3] })).toThrow(
      /expects shape \[\?, 2\] \(got \[1, 3\]\): each record needs 2 values/,
    );
    await model.close();
  });
});

describe('TF.js graph model', () => {
  test('a converter-style graph model (MatMul of a constant) runs', async () => {
    const target = path.join(dir, 'graph');
    await mkdir(target);
    const dtype = { type: 'DT_FLOAT' };
    const modelJson = {
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'hand',
      modelTopology: {
        node: [
          {
            name: 'x',
            op: 'Placeholder',
            attr: { dtype, shape: { shape: { dim: [{ size: '-1' }, { size: '2' }] } } },
          },
          {
            name: 'w',
            op: 'Const',
            attr: {
              dtype,
              value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }, { size: '1' }] } } },
            },
          },
          {
            name: 'y',
            op: 'MatMul',
            input: ['x', 'w'],
            attr: { T: dtype, transpose_a: { b: false }, transpose_b: { b: false } },
          },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [
        { paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [2, 1], dtype: 'float32' }] },
      ],
    };
    await writeFile(path.join(target, 'model.json'), JSON.stringify(modelJson));
    await writeFile(
      path.join(target, 'group1-shard1of1.bin'),
      Buffer.from(Float32Array.from([3, -1]).buffer),
    );
    const model = await loadTfjsModel(target);
    expect(model.format).toBe('graph-model');
    expect(model.inputs).toEqual([{ name: 'x', type: 'float32', shape: [-1, 2] }]);
    const result = await model.predict(
      bindInputs(model.inputs, { batch: { values: Float32Array.from([1, 2, 3, 4]) }, shape: [2, 2] }),
    );
    expect(tensorToNested(result['y']!)).toEqual([[1], [5]]);
    await model.close();
  });

  test('a weight shard outside the model directory is refused', async () => {
    const target = path.join(dir, 'escape');
    await mkdir(target);
    await writeFile(
      path.join(target, 'model.json'),
      JSON.stringify({
        format: 'graph-model',
        modelTopology: { node: [] },
        weightsManifest: [{ paths: ['../x.bin'], weights: [] }],
      }),
    );
    await expect(loadTfjsModel(target)).rejects.toThrow("weight shard '../x.bin' in");
  });
});
