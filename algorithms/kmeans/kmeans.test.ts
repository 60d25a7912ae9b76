import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { pythonReference } from '../../test/helpers/python-reference.js';
import {
  arrayChannels,
  fileChannels,
  readLabelledCsv,
  trainContext,
} from '../../test/support/train-context.js';
import { kmeans } from './index.js';
import { KMeansHyperparametersSchema } from './hyperparameters.js';
import { createRandom } from './math/random.js';

const IRIS = fileURLToPath(new URL('../../examples/data/iris', import.meta.url));

async function trainOn(
  hyperparameters: Record<string, string>,
  data: Record<string, { values: Float32Array; dim: number }>,
) {
  const job = trainContext(KMeansHyperparametersSchema, hyperparameters, arrayChannels(data));
  await kmeans.train(job.context);
  return job;
}

async function dataMsd(modelDir: string, values: Float32Array, dim: number): Promise<number> {
  const predictor = await kmeans.load(modelDir);
  const rows = values.length / dim;
  const out = await predictor.predict({ rows, dim, values });
  let sum = 0;
  for (const d of out.columns['distance_to_cluster']!) sum += d * d;
  return sum / rows;
}

/** sklearn KMeans(n_init=10) MSD (inertia / n) on a float32 matrix (the committed record `name`). */
function sklearnMsd(name: string, values: Float32Array, dim: number, k: number): number {
  const script = [
    'import sys, numpy as np',
    'from sklearn.cluster import KMeans',
    `X = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, ${dim}).astype(np.float64)`,
    `km = KMeans(n_clusters=${k}, n_init=10, random_state=0).fit(X)`,
    'print(km.inertia_ / len(X))',
  ].join('\n');
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return Number(pythonReference(name, script, [bytes]).trim());
}

function blobs(rows: number, dim: number, centers: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const truth = Array.from({ length: centers * dim }, () => gauss() * 4);
  const values = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(random() * centers);
    for (let t = 0; t < dim; t++) values[i * dim + t] = truth[c * dim + t]! + gauss();
  }
  return values;
}

describe('k-means training (in-memory channels)', () => {
  it('reproduces the seed tutorial: iris 112/38, k=3, RecordIO training data without ContentType, CSV test', async () => {
    const train = readLabelledCsv(path.join(IRIS, 'iris_train.csv'), 0);
    const test = readLabelledCsv(path.join(IRIS, 'iris_test.csv'), 0);
    const base = mkdtempSync(path.join(tmpdir(), 'kmeans-iris-'));
    mkdirSync(path.join(base, 'input/data/train'), { recursive: true });
    mkdirSync(path.join(base, 'input/data/test'), { recursive: true });
    const recordio = encodeDenseRecords({ rows: train.rows, dim: 4, values: train.values });
    expect(recordio.length).toBe(4480); // what the SDK's record_set() uploads for these rows
    writeFileSync(path.join(base, 'input/data/train/matrix_0.pbr'), recordio);
    const csv = Array.from({ length: test.rows }, (_, i) =>
      Array.from(test.values.subarray(i * 4, i * 4 + 4)).join(','),
    );
    writeFileSync(path.join(base, 'input/data/test/iris_test.csv'), `${csv.join('\n')}\n`);
    const job = trainContext(
      KMeansHyperparametersSchema,
      { feature_dim: '4', k: '3', force_dense: 'True', eval_metrics: '["msd","ssd"]' },
      arrayChannels({}),
      base,
    );
    const channels = fileChannels(base, {
      train: { TrainingInputMode: 'File', S3DistributionType: 'ShardedByS3Key', RecordWrapperType: 'None' },
      test: {
        ContentType: 'text/csv',
        TrainingInputMode: 'File',
        S3DistributionType: 'FullyReplicated',
        RecordWrapperType: 'None',
      },
    });
    await kmeans.train({ ...job.context, channels });
    const { lines, context } = job;
    expect(readdirSync(context.modelDir).sort()).toEqual(['model.json', 'model.onnx', 'model_algo-1']);
    const metric = (re: RegExp) => Number(lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined));
    expect(lines).toContain('#progress_metric: host=algo-1, completed 100 % of epochs');
    expect(
      lines.some((l) =>
        /^#throughput_metric: host=algo-1, train throughput=\d+(\.\d+)? records\/second$/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('#metrics {"StartTime":'))).toBe(true);
    const trainMsd = metric(/^#quality_metric: host=algo-1, train msd <loss>=(\S+)$/);
    const testMsd = metric(/^#quality_metric: host=algo-1, test msd <loss>=(\S+)$/);
    const testSsd = metric(/^#quality_metric: host=algo-1, test ssd <loss>=(\S+)$/);
    expect(trainMsd).toBeGreaterThan(0);
    expect(testMsd).toBeLessThanOrEqual(0.494 * 1.02);
    expect(testSsd).toBeCloseTo(testMsd * 38, 6);

    const predictor = await kmeans.load(context.modelDir);
    const out = await predictor.predict({ rows: test.rows, dim: 4, values: test.values });
    const clusters = Array.from(out.columns['closest_cluster']!);
    // Best one-to-one mapping of clusters to species.
    const species = [...new Set(test.labels)];
    let best = 0;
    for (const perm of [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ]) {
      const matches = clusters.filter((c, i) => species[perm[c]!] === test.labels[i]).length;
      best = Math.max(best, matches);
    }
    expect(best).toBeGreaterThanOrEqual(33);

    const description = JSON.parse(readFileSync(path.join(context.modelDir, 'model.json'), 'utf8'));
    expect(description).toMatchObject({
      algorithm: 'kmeans',
      feature_dim: 4,
      k: 3,
      hyperparameters: { k: 3, feature_dim: 4, extra_center_factor: 10, force_dense: true },
      metrics: { 'train:msd': trainMsd, 'test:msd': testMsd, 'test:ssd': testSsd },
    });
    expect(description.smkit_version).toMatch(/^\d+\.\d+\.\d+/);
    const report = readFileSync(path.join(context.outputDataDir, 'report.html'), 'utf8');
    expect(report).toContain('Loss per epoch');
    expect((report.match(/<circle class="point"/g) ?? []).length).toBe(112);
  });

  it('MSD within 2% of sklearn KMeans(n_init=10) on iris (150 rows)', async () => {
    const iris = readLabelledCsv(path.join(IRIS, 'iris.csv'), 4);
    const job = await trainOn({ feature_dim: '4', k: '3' }, { train: iris });
    const ours = await dataMsd(job.context.modelDir, iris.values, 4);
    const theirs = sklearnMsd('kmeans-msd-iris', iris.values, 4, 3);
    expect(ours / theirs).toBeLessThanOrEqual(1.02);
  });

  it('MSD within 2% of sklearn KMeans(n_init=10) on synthetic blobs (20000 x 10, k=8, 3 epochs, batches of 1000)', async () => {
    const values = blobs(20_000, 10, 8, 5);
    const job = await trainOn(
      { feature_dim: '10', k: '8', mini_batch_size: '1000', epochs: '3', init_method: 'kmeans++' },
      { train: { values, dim: 10 } },
    );
    const ours = await dataMsd(job.context.modelDir, values, 10);
    const theirs = sklearnMsd('kmeans-msd-blobs', values, 10, 8);
    expect(ours / theirs).toBeLessThanOrEqual(1.02);
    expect(job.lines.filter((l) => l.startsWith('#progress_metric'))).toEqual([
      '#progress_metric: host=algo-1, completed 33.333 % of epochs',
      '#progress_metric: host=algo-1, completed 66.667 % of epochs',
      '#progress_metric: host=algo-1, completed 100 % of epochs',
    ]);
  }, 120_000); // sklearn's ten inits take long on a busy machine

  it('model.onnx gives the predictor outputs (closest_cluster float, Euclidean distance)', async () => {
    const values = blobs(3000, 6, 5, 9);
    const job = await trainOn({ feature_dim: '6', k: '5' }, { train: { values, dim: 6 } });
    const predictor = await kmeans.load(job.context.modelDir);
    expect(predictor.jsonRootKey).toBe('predictions');
    expect(predictor.fields).toEqual([
      { name: 'closest_cluster', width: 1, scalar: true },
      { name: 'distance_to_cluster', width: 1, scalar: true },
    ]);
    const expected = await predictor.predict({ rows: 3000, dim: 6, values });
    const session = await ort.InferenceSession.create(path.join(job.context.modelDir, 'model.onnx'));
    const out = await session.run({ features: new ort.Tensor('float32', values, [3000, 6]) });
    expect(Array.from(out['closest_cluster']!.data as Float32Array)).toEqual(
      Array.from(expected.columns['closest_cluster']!),
    );
    const onnxDistances = out['distance_to_cluster']!.data as Float32Array;
    expected.columns['distance_to_cluster']!.forEach((d, i) => {
      expect(Math.abs(onnxDistances[i]! - d)).toBeLessThan(1e-3 * Math.max(1, d));
    });
  });
});

describe('k-means on several hosts (ShardedByS3Key)', () => {
  it('the leader merges every shard into one model within 2% of the single-host MSD; workers write nothing', async () => {
    const dim = 8;
    const values = blobs(12_000, dim, 6, 11);
    const half = 6000 * dim;
    // Loopback IP literals as host names: the exchange listens on the leader's address.
    const octet = 10 + Math.floor(Math.random() * 200);
    const hosts = [`127.0.${octet}.1`, `127.0.${octet}.2`];
    const hp = { feature_dim: String(dim), k: '6', mini_batch_size: '500' };
    const shard = (i: number) =>
      arrayChannels({ train: { values: values.slice(i * half, (i + 1) * half), dim } });
    const jobs = hosts.map((current, i) =>
      trainContext(KMeansHyperparametersSchema, hp, shard(i), undefined, { hosts, current }),
    );
    await Promise.all(jobs.map((job) => kmeans.train(job.context)));
    const [leader, worker] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    expect(readdirSync(leader.context.modelDir).sort()).toEqual(['model.json', 'model.onnx', 'model_algo-1']);
    expect(existsSync(worker.context.modelDir) ? readdirSync(worker.context.modelDir) : []).toEqual([]);
    expect(
      leader.lines.some((l) => l.startsWith(`#quality_metric: host=${hosts[0]}, train msd <loss>=`)),
    ).toBe(true);
    expect(worker.lines.some((l) => l.startsWith('#quality_metric'))).toBe(false);
    expect(worker.lines).toContain(`#progress_metric: host=${hosts[1]}, completed 100 % of epochs`);

    const single = await trainOn(hp, { train: { values, dim } });
    const merged = await dataMsd(leader.context.modelDir, values, dim);
    const alone = await dataMsd(single.context.modelDir, values, dim);
    expect(merged / alone).toBeLessThanOrEqual(1.02);
  });
});

describe('k-means bad input: clear InputError, no model written', () => {
  const base = { feature_dim: '2', k: '2' };
  it.each([
    [
      'k larger than the records',
      { ...base, k: '5' },
      [0, 0, 1, 1, 2, 2],
      2,
      'k=5 is larger than the number of training records (3): lower k or add data',
    ],
    [
      'a NaN value',
      base,
      [0, 0, 1, Number.NaN, 2, 2],
      2,
      'train channel: record 2 has NaN in feature 2; k-means needs finite numbers: remove or impute missing values',
    ],
    [
      'an infinite value',
      base,
      [0, 0, 1, 1, Number.POSITIVE_INFINITY, 2],
      2,
      'train channel: record 3 has Infinity in feature 1',
    ],
    ['an empty channel', base, [], 2, 'train channel has no records'],
    [
      'the wrong width',
      base,
      [0, 0, 0, 1, 1, 1],
      3,
      'train channel: records have 3 features but feature_dim is 2',
    ],
  ])('%s', async (_name, hp, values, dim, message) => {
    const job = trainContext(
      KMeansHyperparametersSchema,
      hp,
      arrayChannels({ train: { values: Float32Array.from(values), dim } }),
    );
    await expect(kmeans.train(job.context)).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining(message),
    });
    expect(existsSync(job.context.modelDir) ? readdirSync(job.context.modelDir) : []).toEqual([]);
  });
});
