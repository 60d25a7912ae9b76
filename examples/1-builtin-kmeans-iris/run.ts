/**
 * Way 1, a built-in algorithm: SageMaker's iris k-means tutorial with smkit's drop-in k-means.
 *
 *   npx tsx examples/1-builtin-kmeans-iris/run.ts --local [--local-image smkit]
 *   npx tsx examples/1-builtin-kmeans-iris/run.ts --aws --image URI --role ARN [--endpoint-url URL]
 *
 * --local trains with `smkit local train` (no Docker, no AWS), serves the model with
 * `smkit local serve`, predicts the 38 test rows and prints the confusion against species.
 * --aws runs the same job with `smkit train-job --wait --download`, deploys the trained
 * model.tar.gz with `smkit deploy`, predicts with `smkit invoke` and tears the endpoint down.
 * With --endpoint-url (an emulator such as moto, whose InvokeEndpoint answers a canned body), the
 * predictions come from a local endpoint serving the same model.tar.gz.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { localInvoke, localServe, parseLegFlags, readLabelledCsv, smkit } from '../shared/smkit.js';

const flags = parseLegFlags({
  'job-name': { type: 'string', default: `iris-kmeans-${Date.now()}` },
  work: { type: 'string', default: path.join(import.meta.dirname, 'out') },
});

const data = path.join(import.meta.dirname, '../data/iris');
const work = path.resolve(flags.work);
const HYPERPARAMETERS = ['--algorithm', 'kmeans', '--hyperparameters', 'k=3,feature_dim=4'];
// --local-image IMAGE: the local leg in the container image instead of processes.
const localImage = flags['local-image'] ? ['--image', flags['local-image']] : [];

// The tutorial's split: 112 training rows, 38 test rows; the algorithm sees features only.
const train = await readLabelledCsv(path.join(data, 'iris_train.csv'));
const test = await readLabelledCsv(path.join(data, 'iris_test.csv'));
await mkdir(path.join(work, 'train'), { recursive: true });
await writeFile(path.join(work, 'train', 'iris.csv'), `${train.rows.join('\n')}\n`);
const testBody = path.join(work, 'test.csv');
await writeFile(testBody, `${test.rows.join('\n')}\n`);
console.log(`iris: ${train.rows.length} training rows, ${test.rows.length} test rows\n`);

interface Prediction {
  closest_cluster: number;
  distance_to_cluster: number;
}

/** Predicts the test rows on a local endpoint serving `model` (model.tar.gz). */
async function predictLocally(model: string): Promise<Prediction[]> {
  const endpoint = await localServe(['--model', model, ...localImage]);
  try {
    const answer = await localInvoke(endpoint.url, testBody, 'text/csv', 'application/json');
    return (JSON.parse(answer) as { predictions: Prediction[] }).predictions;
  } finally {
    await endpoint.stop();
  }
}

/** Prints species x cluster counts; returns how many rows fall in their species' majority cluster. */
function printConfusion(predictions: readonly Prediction[]): number {
  const clusters = [...new Set(predictions.map((p) => p.closest_cluster))].sort((a, b) => a - b);
  const species = [...new Set(test.labels)].sort();
  const count = (s: string, c: number) =>
    predictions.filter((p, i) => test.labels[i] === s && p.closest_cluster === c).length;
  console.log(`\n${'species'.padEnd(18)}${clusters.map((c) => `cluster ${c}`.padStart(11)).join('')}`);
  for (const s of species)
    console.log(`${s.padEnd(18)}${clusters.map((c) => String(count(s, c)).padStart(11)).join('')}`);
  let agree = 0;
  const names: string[] = [];
  for (const c of clusters) {
    const [best] = species.map((s) => [s, count(s, c)] as const).sort((a, b) => b[1] - a[1]);
    names.push(`${c} = ${best![0]}`);
    agree += best![1];
  }
  console.log(`\nClusters: ${names.join(', ')}`);
  console.log(`${agree} of ${predictions.length} test rows fall in their species' cluster\n`);
  return agree;
}

if (flags.local) {
  console.log('== local: smkit local train, smkit local serve (no Docker, no AWS)');
  const result = JSON.parse(
    await smkit([
      'local',
      'train',
      ...HYPERPARAMETERS,
      '--channel',
      `train=${path.join(work, 'train')},content-type=text/csv`,
      '--output',
      path.join(work, 'local'),
      '--json',
      ...localImage,
    ]),
  ) as { status: string; model: { file: string } };
  console.log(`training ${result.status}: ${path.relative(process.cwd(), result.model.file)}`);
  printConfusion(await predictLocally(result.model.file));
}

if (flags.aws) {
  console.log('== AWS: smkit train-job, smkit deploy, smkit invoke, smkit teardown');
  const aws = flags['endpoint-url'] ? ['--endpoint-url', flags['endpoint-url']] : [];
  const jobName = flags['job-name'];
  await smkit([
    'train-job',
    ...HYPERPARAMETERS,
    '--channel',
    `train=${path.join(work, 'train')},content-type=text/csv`,
    '--image',
    flags.image!,
    '--role',
    flags.role!,
    '--instance-type',
    flags['instance-type'],
    '--job-name',
    jobName,
    '--wait',
    '--download',
    path.join(work, 'aws'),
    ...aws,
  ]);
  const model = path.join(work, 'aws', 'model.tar.gz');
  const deployed = JSON.parse(
    await smkit([
      'deploy',
      '--image',
      flags.image!,
      '--model-data',
      model,
      '--role',
      flags.role!,
      '--instance-type',
      flags['instance-type'],
      '--endpoint-name',
      jobName,
      '--json',
      ...aws,
    ]),
  ) as { endpointName: string; status: string };
  console.log(`endpoint ${deployed.endpointName}: ${deployed.status}`);
  try {
    const answer = await smkit([
      'invoke',
      '--endpoint',
      deployed.endpointName,
      '--content-type',
      'text/csv',
      '--accept',
      'application/json',
      '--body',
      testBody,
      ...aws,
    ]);
    if (flags['endpoint-url']) {
      console.log(`the emulator answered InvokeEndpoint with: ${answer.trim().slice(0, 80)}`);
      console.log('(an emulator runs no container: predicting with the same model.tar.gz locally)');
      printConfusion(await predictLocally(model));
    } else {
      printConfusion((JSON.parse(answer) as { predictions: Prediction[] }).predictions);
    }
  } finally {
    await smkit(['teardown', deployed.endpointName, '--yes', ...aws]);
  }
}
