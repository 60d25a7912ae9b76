/**
 * Way 3, your own training and inference code in the stock smkit image (script mode):
 *
 *   npx tsx examples/3-script-mode/run.ts             # no Docker: smkit train/serve as processes
 *   npx tsx examples/3-script-mode/run.ts --image smkit   # the same in the image (docker build -t smkit .)
 *
 * `smkit local train --entry-point train.ts --source-dir code` sends what the SageMaker Python SDK
 * sends (`sagemaker_program`, `sagemaker_submit_directory`); the job installs code/package.json's
 * dependencies, runs train.ts, and model.tar.gz holds centroids.json and code/inference.ts, whose
 * hooks `smkit local serve` loads. The 38 iris test rows go in as CSV and as JSON.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localInvoke, localServe, readLabelledCsv, smkit } from '../shared/smkit.js';

const { values: flags } = parseArgs({
  options: {
    image: { type: 'string' },
    work: { type: 'string', default: path.join(import.meta.dirname, 'out') },
  },
});
const here = import.meta.dirname;
const work = path.resolve(flags.work);
const docker = flags.image ? ['--image', flags.image] : [];
console.log(flags.image ? `== in the image ${flags.image}` : '== as local processes (no Docker)');
// The train channel: iris_train.csv as it is (header row, species first); train.ts reads the header.
await mkdir(path.join(work, 'train'), { recursive: true });
await copyFile(path.join(here, '../data/iris/iris_train.csv'), path.join(work, 'train', 'iris_train.csv'));

const trained = JSON.parse(
  await smkit([
    'local',
    'train',
    '--entry-point',
    'train.ts',
    '--source-dir',
    path.join(here, 'code'),
    '--hyperparameters',
    'distance=euclidean',
    '--channel',
    `train=${path.join(work, 'train')},content-type=text/csv`,
    '--metric-definitions',
    'train:accuracy=train:accuracy=(\\S+)',
    '--output',
    path.join(work, 'model'),
    '--json',
    ...docker,
  ]),
) as { status: string; metrics: { name: string; last: number }[]; model: { file: string } };
const accuracy = trained.metrics.find((m) => m.name === 'train:accuracy')?.last;
console.log(`training ${trained.status}; train:accuracy ${accuracy}\n`);

const test = await readLabelledCsv(path.join(here, '../data/iris/iris_test.csv'));
const csvBody = path.join(work, 'test.csv');
await writeFile(csvBody, `${test.rows.join('\n')}\n`);
const jsonBody = path.join(work, 'test.json');
await writeFile(jsonBody, JSON.stringify({ instances: test.rows.map((row) => row.split(',').map(Number)) }));

const endpoint = await localServe(['--model', trained.model.file, ...docker]);
try {
  const csv = await localInvoke(endpoint.url, csvBody, 'text/csv', 'text/csv');
  console.log(`${csv.split('\n').slice(0, 3).join('\n')}\n...`);
  const json = JSON.parse(
    await localInvoke(endpoint.url, jsonBody, 'application/json', 'application/json'),
  ) as {
    predictions: { species: string; distance: number }[];
  };
  console.log(`${JSON.stringify(json.predictions.slice(0, 2))} ...`);
  const fromCsv = csv
    .trim()
    .split('\n')
    .map((line) => line.split(',')[0]);
  const same = fromCsv.every((species, i) => species === json.predictions[i]?.species);
  const right = json.predictions.filter((p, i) => p.species === test.labels[i]).length;
  console.log(`\nCSV and JSON answers ${same ? 'agree' : 'DIFFER'}`);
  console.log(`${right} of ${test.rows.length} test rows predicted as their species`);
} finally {
  await endpoint.stop();
}
