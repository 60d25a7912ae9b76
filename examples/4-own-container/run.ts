/**
 * Way 4, your own container: trains the zscore algorithm and serves its model, then serves
 * linear-model/ through the custom model kind, all in the image built from this folder's Dockerfile.
 *
 *   docker build -t smkit .                                  # from the repo root
 *   docker build -t my-container examples/4-own-container
 *   npx tsx examples/4-own-container/run.ts --image my-container
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localInvoke, localServe, readLabelledCsv, smkit } from '../shared/smkit.js';

const { values: flags } = parseArgs({
  options: {
    image: { type: 'string', default: 'my-container' },
    work: { type: 'string', default: path.join(import.meta.dirname, 'out') },
  },
});
const here = import.meta.dirname;
const work = path.resolve(flags.work);
const image = ['--image', flags.image];

const train = await readLabelledCsv(path.join(here, '../data/iris/iris_train.csv'));
const test = await readLabelledCsv(path.join(here, '../data/iris/iris_test.csv'));
await mkdir(path.join(work, 'train'), { recursive: true });
await writeFile(path.join(work, 'train', 'iris.csv'), `${train.rows.join('\n')}\n`);
const testBody = path.join(work, 'test.csv');
await writeFile(testBody, `${test.rows.join('\n')}\n`);

/** Serves `model` in the image and sends the test rows as CSV; returns the parsed JSON answer. */
async function predict(model: string): Promise<unknown> {
  const endpoint = await localServe(['--model', model, ...image]);
  try {
    const answer = await localInvoke(endpoint.url, testBody, 'text/csv', 'application/json');
    return JSON.parse(answer);
  } finally {
    await endpoint.stop();
  }
}

console.log('== the zscore algorithm (zscore.ts), trained and served in the image');
const trained = JSON.parse(
  await smkit([
    'local',
    'train',
    ...image,
    '--hyperparameters',
    'smkit_algorithm=zscore,feature_dim=4',
    '--channel',
    `train=${path.join(work, 'train')},content-type=text/csv`,
    '--output',
    path.join(work, 'zscore'),
    '--json',
  ]),
) as { status: string; model: { file: string } };
console.log(`training ${trained.status}`);
const { predictions } = (await predict(trained.model.file)) as { predictions: { score: number }[] };
const order = predictions.map((p, i) => [i, p.score] as const).sort((a, b) => b[1] - a[1]);
console.log('the most unusual test rows (largest |z| of a feature):');
for (const [i, score] of order.slice(0, 3))
  console.log(`  ${test.labels[i]!.padEnd(16)} ${test.rows[i]!.padEnd(16)} score ${score.toFixed(3)}`);

console.log('\n== linear-model/linear.json, served by the custom model kind (linear-kind.ts)');
const answer = (await predict(path.join(here, 'linear-model'))) as { petal_width: number[] };
for (let i = 0; i < 3; i++) {
  const actual = test.rows[i]!.split(',')[3];
  console.log(
    `  ${test.rows[i]!.padEnd(16)} petal_width ${answer.petal_width[i]!.toFixed(2)} (actual ${actual})`,
  );
}
const error =
  answer.petal_width.reduce((sum, p, i) => sum + Math.abs(p - Number(test.rows[i]!.split(',')[3])), 0) /
  test.rows.length;
console.log(`mean absolute error over ${test.rows.length} test rows: ${error.toFixed(3)}`);
