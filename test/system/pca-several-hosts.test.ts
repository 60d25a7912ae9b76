import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { lowRankData } from '../helpers/sklearn.js';
import { decodeModelFile } from '../../algorithms/pca/model.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** `smkit train` from the sources (no build needed): the real runner, channels and exit codes. */
const SMKIT_TRAIN = `const cli = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))}); await cli.main(['node', 'smkit', 'train']);`;
const DIM = 5;
const ROWS = 1200;
const data = lowRankData(ROWS, DIM, 3, 0.3, 21, 50);
const HP = { feature_dim: String(DIM), mini_batch_size: '100', num_components: '2', smkit_algorithm: 'pca' };

function csv(from: number, to: number): string {
  const lines: string[] = [];
  for (let r = from; r < to; r++) lines.push(Array.from(data.subarray(r * DIM, (r + 1) * DIM)).join(','));
  return `${lines.join('\n')}\n`;
}

/** A job tree for one host: config files and its shard of the train channel as CSV files. */
function jobTree(host: string, hosts: string[], shards: [number, number][]): string {
  const base = mkdtempSync(path.join(tmpdir(), `smkit-${host}-`));
  const config = path.join(base, 'input/config');
  const train = path.join(base, 'input/data/train');
  mkdirSync(config, { recursive: true });
  mkdirSync(train, { recursive: true });
  writeFileSync(path.join(config, 'hyperparameters.json'), JSON.stringify(HP));
  writeFileSync(
    path.join(config, 'inputdataconfig.json'),
    JSON.stringify({ train: { ContentType: 'text/csv', S3DistributionType: 'ShardedByS3Key' } }),
  );
  writeFileSync(path.join(config, 'resourceconfig.json'), JSON.stringify({ current_host: host, hosts }));
  for (const [i, [from, to]] of shards.entries()) {
    writeFileSync(path.join(train, `part-${i}.csv`), csv(from, to));
  }
  return base;
}

function runHost(base: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', SMKIT_TRAIN],
      { cwd: ROOT, env: { ...process.env, SAGEMAKER_BASE_DIR: base, SMKIT_HOST_WAIT_SECONDS: '60' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const modelFiles = (base: string) => {
  const dir = path.join(base, 'model');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

describe('PCA with several host processes on loopback addresses', () => {
  test('the merged model equals the single-host model on the union; workers write nothing', async () => {
    const single = jobTree('algo-1', ['algo-1'], [[0, ROWS]]);
    const hosts = ['127.0.0.51', '127.0.0.52', '127.0.0.53'];
    const trees = [
      jobTree(hosts[0]!, hosts, [[0, 300]]),
      jobTree(hosts[1]!, hosts, [
        [300, 700],
        [700, 701],
      ]),
      jobTree(hosts[2]!, hosts, [[701, ROWS]]),
    ];
    const [alone, ...runs] = await Promise.all([runHost(single), ...trees.map(runHost)]);
    for (const run of [alone!, ...runs]) expect(run.code, run.stderr).toBe(0);
    expect(runs[1]!.stdout).toContain('#progress_metric: host=127.0.0.52, completed 100 % of epochs');
    expect(modelFiles(trees[1]!)).toEqual([]);
    expect(modelFiles(trees[2]!)).toEqual([]);
    expect(modelFiles(trees[0]!)).toEqual(['model.json', 'model.onnx', 'model_algo-1']);

    const merged = decodeModelFile(readFileSync(path.join(trees[0]!, 'model/model_algo-1')));
    const reference = decodeModelFile(readFileSync(path.join(single, 'model/model_algo-1')));
    for (let i = 0; i < reference.v.length; i++) expect(merged.v[i]!).toBeCloseTo(reference.v[i]!, 5);
    for (let i = 0; i < reference.s.length; i++) expect(merged.s[i]! / reference.s[i]!).toBeCloseTo(1, 5);
    for (let i = 0; i < DIM; i++) expect(merged.mean![i]!).toBeCloseTo(reference.mean![i]!, 4);
    const description = JSON.parse(readFileSync(path.join(trees[0]!, 'model/model.json'), 'utf8'));
    expect(description.metrics.records).toBe(ROWS);
  });

  test("a worker's bad record fails the leader too, naming the worker and the record", async () => {
    const hosts = ['127.0.0.54', '127.0.0.55'];
    const leader = jobTree(hosts[0]!, hosts, [[0, 600]]);
    const worker = jobTree(hosts[1]!, hosts, [[600, ROWS]]);
    writeFileSync(path.join(worker, 'input/data/train/part-0.csv'), `1,2,3,4,5\n1,2,nan,4,5\n`);
    const [l, w] = await Promise.all([runHost(leader), runHost(worker)]);
    expect(w.code).toBe(1);
    expect(l.code).toBe(1);
    expect(readFileSync(path.join(leader, 'output/failure'), 'utf8')).toContain('host 127.0.0.55 failed:');
    expect(readFileSync(path.join(worker, 'output/failure'), 'utf8')).toContain(
      'train channel: record 2 has a non-finite value (NaN) in column 3',
    );
    expect(modelFiles(leader)).toEqual([]);
    expect(modelFiles(worker)).toEqual([]);
  });
});
