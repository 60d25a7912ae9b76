/**
 * A script-mode training job: SageMaker (or `smkit local train --entry-point train.ts`) runs it in the
 * stock smkit image with the reference toolkit's SM_* environment. It learns one centroid per label
 * (a nearest-centroid classifier), writes it to SM_MODEL_DIR, and ships the inference hooks with the
 * model in `code/`, where the stock server finds them.
 *
 * Its one dependency, zod, is in package.json: the container runs `npm ci` before the script starts.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** The hyperparameters this script takes (SM_HPS holds them JSON-decoded, as the Python SDK sends them). */
const Hyperparameters = z.object({
  label_column: z.string().default('species'),
  distance: z.enum(['euclidean', 'manhattan']).default('euclidean'),
});

const env = z
  .object({ SM_MODEL_DIR: z.string(), SM_CHANNEL_TRAIN: z.string(), SM_HPS: z.string().default('{}') })
  .parse(process.env);
const hps = Hyperparameters.parse(JSON.parse(env.SM_HPS));

// Every CSV of the train channel: a header row, the label in `label_column`, numeric features.
const rows: { label: string; features: number[] }[] = [];
let featureNames: string[] = [];
for (const file of (await readdir(env.SM_CHANNEL_TRAIN)).filter((name) => name.endsWith('.csv')).sort()) {
  const [header, ...lines] = (await readFile(path.join(env.SM_CHANNEL_TRAIN, file), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '');
  const columns = header!.split(',');
  const labelAt = columns.indexOf(hps.label_column);
  if (labelAt < 0) throw new Error(`${file} has no column '${hps.label_column}' (columns: ${columns})`);
  featureNames = columns.filter((_, i) => i !== labelAt);
  for (const line of lines) {
    const cells = line.split(',');
    rows.push({ label: cells[labelAt]!, features: cells.filter((_, i) => i !== labelAt).map(Number) });
  }
}
console.log(`training on ${rows.length} rows, features ${featureNames.join(', ')}, ${hps.distance} distance`);

const sums = new Map<string, { sum: number[]; count: number }>();
for (const { label, features } of rows) {
  const entry = sums.get(label) ?? { sum: features.map(() => 0), count: 0 };
  features.forEach((value, i) => {
    entry.sum[i]! += value;
  });
  entry.count += 1;
  sums.set(label, entry);
}
const centroids = Object.fromEntries(
  [...sums].map(([label, { sum, count }]) => [label, sum.map((value) => value / count)]),
);

const distance = (a: number[], b: number[]) =>
  hps.distance === 'manhattan'
    ? a.reduce((total, value, i) => total + Math.abs(value - b[i]!), 0)
    : Math.sqrt(a.reduce((total, value, i) => total + (value - b[i]!) ** 2, 0));
const nearest = (features: number[]) =>
  Object.entries(centroids).sort((x, y) => distance(features, x[1]) - distance(features, y[1]))[0]![0];
const accuracy = rows.filter((row) => nearest(row.features) === row.label).length / rows.length;
// A metric line for the job's MetricDefinitions: train:accuracy=train:accuracy=(\S+)
console.log(`train:accuracy=${accuracy.toFixed(4)}`);

await writeFile(
  path.join(env.SM_MODEL_DIR, 'centroids.json'),
  JSON.stringify({ distance: hps.distance, features: featureNames, centroids }, null, 2),
);
// The model's code/ holds the inference hooks: the stock server loads code/inference.ts.
await mkdir(path.join(env.SM_MODEL_DIR, 'code'), { recursive: true });
await copyFile(
  path.join(import.meta.dirname, 'inference.ts'),
  path.join(env.SM_MODEL_DIR, 'code', 'inference.ts'),
);
console.log(`model written to ${env.SM_MODEL_DIR}: centroids.json, code/inference.ts`);
