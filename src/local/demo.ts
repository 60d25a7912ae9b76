import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChannelSpecSchema, type Env } from '../contract/index.js';
import { SmkitError } from '../util/errors.js';
import { subprocessLauncher } from './host-process.js';
import { invokeEndpoint } from './invoke.js';
import { startLocalEndpoint } from './local-endpoint.js';
import { runLocalTraining } from './train-job.js';

/** Labelled rows split into what the algorithm sees (features only) and the labels. */
export interface LabelledCsv {
  /** `text/csv` as the built-in algorithms read it: no header, no label column. */
  readonly features: string[];
  readonly labels: string[];
}

/**
 * Converts a CSV with a header row and the label first (the iris tutorial's files) into headerless
 * feature rows and the labels.
 * @example splitLabelledCsv('species,a,b\nsetosa,1,2\n') -> { features: ['1,2'], labels: ['setosa'] }
 */
export function splitLabelledCsv(text: string): LabelledCsv {
  const rows = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const features: string[] = [];
  const labels: string[] = [];
  for (const row of rows.slice(1)) {
    const comma = row.indexOf(',');
    labels.push(row.slice(0, comma));
    features.push(row.slice(comma + 1));
  }
  return { features, labels };
}

/** The directory holding smkit's package.json (works from src/ with tsx and from dist/). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new SmkitError(`cannot find smkit's package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** How well clusters match labels: each cluster's majority label and the rows that agree with it. */
export function clusterAgreement(
  clusters: readonly number[],
  labels: readonly string[],
): { majority: Map<number, string>; agree: number } {
  const counts = new Map<number, Map<string, number>>();
  clusters.forEach((cluster, i) => {
    const byLabel = counts.get(cluster) ?? new Map<string, number>();
    byLabel.set(labels[i]!, (byLabel.get(labels[i]!) ?? 0) + 1);
    counts.set(cluster, byLabel);
  });
  const majority = new Map<number, string>();
  let agree = 0;
  for (const [cluster, byLabel] of [...counts].sort((a, b) => a[0] - b[0])) {
    const [label, count] = [...byLabel].sort((a, b) => b[1] - a[1])[0]!;
    majority.set(cluster, label);
    agree += count;
  }
  return { majority, agree };
}

/** Options of the demo. */
export interface DemoOptions {
  readonly smkitCommand: readonly string[];
  readonly env: Env;
  readonly out: (text: string) => void;
  /** Model server and training logs (hidden by default, shown on failure). */
  readonly log: (line: string) => void;
  readonly dataDir?: string;
}

/**
 * `npm start`: trains the built-in k-means (k=3) on the bundled iris rows with `smkit local train`
 * (subprocess, no Docker, no AWS), serves model.tar.gz with `smkit local serve`, sends the test rows as
 * text/csv and prints each prediction next to the row's species.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const data = options.dataDir ?? path.join(packageRoot(), 'examples/data/iris');
  const train = splitLabelledCsv(await readFile(path.join(data, 'iris_train.csv'), 'utf8'));
  const test = splitLabelledCsv(await readFile(path.join(data, 'iris_test.csv'), 'utf8'));
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-demo-'));
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    options.log(line);
  };
  try {
    for (const [name, rows] of [
      ['train', train.features],
      ['test', test.features],
    ] as const) {
      await mkdir(path.join(work, name));
      await writeFile(path.join(work, name, `${name}.csv`), `${rows.join('\n')}\n`);
    }
    options.out(
      `smkit demo: built-in k-means (k=3) on ${train.features.length} iris rows via \`smkit local train\` (no Docker, no AWS)\n`,
    );
    const result = await runLocalTraining({
      jobName: 'smkit-demo-iris',
      algorithm: 'kmeans',
      hyperparameters: { k: '3', feature_dim: '4', force_dense: 'True' },
      channels: [
        ChannelSpecSchema.parse({ name: 'train', source: path.join(work, 'train'), contentType: 'text/csv' }),
        ChannelSpecSchema.parse({ name: 'test', source: path.join(work, 'test'), contentType: 'text/csv' }),
      ],
      hosts: 1,
      outputDir: path.join(work, 'output'),
      metricDefinitions: [
        { Name: 'train:msd', Regex: 'train msd <loss>=(\\S+)' },
        { Name: 'test:msd', Regex: 'test msd <loss>=(\\S+)' },
      ],
      launcher: subprocessLauncher(options.smkitCommand, options.env),
      onLog: (host, line) => log(`${host} | ${line}`),
    });
    if (result.status !== 'Completed' || !result.model) {
      throw new SmkitError(
        `training ${result.status}: ${result.failureReason ?? 'no model'}\n${logs.slice(-10).join('\n')}`,
      );
    }
    const metrics = result.metrics.map((m) => `${m.name} ${m.last.toFixed(3)}`).join(', ');
    options.out(
      `Training Completed in ${result.seconds.toFixed(1)} s (${metrics}); model.tar.gz ${result.model.bytes} bytes\n`,
    );
    const endpoint = await startLocalEndpoint({
      model: result.model.file,
      port: 0,
      smkitCommand: options.smkitCommand,
      parentEnv: options.env,
      onLog: (line) => log(`model | ${line}`),
    });
    try {
      await endpoint.ready.catch((error: unknown) => {
        throw new SmkitError(`${(error as Error).message}\n${logs.slice(-10).join('\n')}`);
      });
      options.out(
        `Endpoint InService at ${endpoint.url}; POST /invocations with ${test.features.length} test rows\n\n`,
      );
      const answer = await invokeEndpoint({
        endpoint: endpoint.url,
        contentType: 'text/csv',
        accept: 'application/json',
        body: Buffer.from(`${test.features.join('\n')}\n`),
      });
      if (answer.status !== 200)
        throw new SmkitError(`/invocations answered ${answer.status}: ${answer.body}`);
      const { predictions } = JSON.parse(answer.body.toString('utf8')) as {
        predictions: { closest_cluster: number; distance_to_cluster: number }[];
      };
      const clusters = predictions.map((p) => p.closest_cluster);
      const { majority, agree } = clusterAgreement(clusters, test.labels);
      options.out(`${'species'.padEnd(17)}${'features'.padEnd(18)}cluster  distance\n`);
      predictions.forEach((p, i) => {
        options.out(
          `${test.labels[i]!.padEnd(17)}${test.features[i]!.padEnd(18)}${String(p.closest_cluster).padEnd(9)}${p.distance_to_cluster.toFixed(3)}\n`,
        );
      });
      const names = [...majority].map(([cluster, label]) => `${cluster} = ${label}`).join(', ');
      options.out(
        `\nClusters: ${names}; ${agree} of ${predictions.length} test rows fall in their species' cluster\n`,
      );
    } finally {
      await endpoint.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
