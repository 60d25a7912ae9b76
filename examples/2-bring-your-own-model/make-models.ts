/**
 * Trains a model outside smkit and saves it in the two formats the stock server reads:
 *
 *   npx tsx examples/2-bring-your-own-model/make-models.ts
 *
 * A softmax regression (4 iris features -> 3 species) trained with TensorFlow.js in Node (pure
 * JavaScript, no tfjs-node), saved through a custom IO handler as tfjs/model.json + weights.bin, and
 * the same weights written as onnx/model.onnx (MatMul, Add, Softmax, ArgMax). Any exporter works for
 * ONNX (skl2onnx, tf2onnx, torch.onnx.export); this one is the repo's small graph builder, so no
 * Python is needed. Both outputs are committed; this script regenerates them (deterministically).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { attr, OnnxGraphBuilder } from '../../src/io/onnx-builder.js';
import { SPECIES } from './species.js';

const here = import.meta.dirname;
const lines = (await readFile(path.join(here, '../data/iris/iris_train.csv'), 'utf8'))
  .split('\n')
  .filter((line) => line.trim() !== '')
  .slice(1);
const features = lines.map((line) => line.split(',').slice(1).map(Number));
const labels = lines.map((line) => (SPECIES as readonly string[]).indexOf(line.split(',')[0]!));

await tf.setBackend('cpu');
const model = tf.sequential({
  name: 'iris_softmax',
  layers: [
    tf.layers.dense({
      name: 'probabilities',
      inputShape: [4],
      units: SPECIES.length,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
    }),
  ],
});
model.compile({
  optimizer: tf.train.adam(0.05),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const history = await model.fit(tf.tensor2d(features), tf.tensor1d(labels, 'float32'), {
  epochs: 400,
  batchSize: 112,
  shuffle: false,
  verbose: 0,
});
const accuracy = history.history['acc']?.at(-1) ?? history.history['accuracy']?.at(-1);
console.log(`trained: training accuracy ${Number(accuracy).toFixed(3)}`);

// TF.js: model.json + weights.bin, written by a custom IO handler (what tf.io's file:// handler does
// in tfjs-node, which cannot be installed everywhere).
await mkdir(path.join(here, 'tfjs'), { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData!);
    await writeFile(path.join(here, 'tfjs', 'weights.bin'), Buffer.from(weights));
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    await writeFile(path.join(here, 'tfjs', 'model.json'), `${JSON.stringify(modelJson)}\n`);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);

// ONNX: probabilities = Softmax(features x kernel + bias), label = ArgMax(probabilities).
const [kernel, bias] = model.getWeights().map((w) => w.dataSync() as Float32Array);
const g = new OnnxGraphBuilder('iris_softmax');
const x = g.input('features', 'float32', ['N', 4]);
const w = g.initializer('kernel', { type: 'float32', dims: [4, SPECIES.length], data: kernel! });
const b = g.initializer('bias', { type: 'float32', dims: [SPECIES.length], data: bias! });
const probabilities = g.op('Softmax', [g.op('Add', [g.op('MatMul', [x, w]), b])], { axis: attr.int(1) });
const label = g.op('ArgMax', [probabilities], { axis: attr.int(1), keepdims: attr.int(0) });
g.output(label, 'int64', ['N'], 'label');
g.output(probabilities, 'float32', ['N', SPECIES.length], 'probabilities');
await mkdir(path.join(here, 'onnx'), { recursive: true });
await writeFile(
  path.join(here, 'onnx', 'model.onnx'),
  g.build({ producerName: 'make-models.ts', metadata: { classes: SPECIES.join(',') } }),
);
console.log('wrote tfjs/model.json, tfjs/weights.bin, onnx/model.onnx');
