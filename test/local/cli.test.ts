import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile as decodeKMeans } from '../../algorithms/kmeans/model.js';
import { decodeModelFile as decodePca } from '../../algorithms/pca/model.js';
import { checkDocker } from '../../src/local/docker.js';

const CLI = path.resolve('test/train/fixtures/smkit-cli.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-cli-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Drops root to `nobody`, as a user without root runs smkit (no private /etc/hosts for the hosts). */
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const NODE_CLI = [process.execPath, '--import', 'tsx', CLI];

function smkit(
  args: string[],
  prefix: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, ...rest] = [...prefix, ...NODE_CLI, ...args];
  return new Promise((resolve) => {
    execFile(file!, rest, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function tarFiles(file: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  await tar.t({
    file,
    onReadEntry: (entry) => {
      entry.on('data', (chunk: Buffer) => {
        files[entry.path] = Buffer.concat([files[entry.path] ?? Buffer.alloc(0), chunk]);
      });
    },
  });
  return files;
}

/** Tests run as root here: they drop to nobody, who must be able to read the checkout. */
function nonRootPrefix(): { prefix: string[]; reason?: string } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  try {
    execFileSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), ...NODE_CLI, '--help'], { stdio: 'ignore' });
    return { prefix: AS_NOBODY };
  } catch {
    return { prefix: AS_NOBODY, reason: `nobody cannot run ${CLI} (setpriv missing or checkout unreadable)` };
  }
}

const TRAIN_JS = `
const fs = require('node:fs');
const path = require('node:path');
const rows = fs.readFileSync(path.join(process.env.SM_INPUT_DIR, 'data', 'train_0'), 'utf8').trim().split('\\n');
console.log('train_loss=' + rows.length / 10);
fs.writeFileSync(path.join(process.env.SM_MODEL_DIR, 'model.json'), JSON.stringify({ rows: rows.length, hps: JSON.parse(process.env.SM_HPS) }));
`;

describe('smkit local (CLI, real processes)', () => {
  it('runs a script-mode job with a Pipe channel through smkit train and prints JSON for scripts', async () => {
    await mkdir(path.join(dir, 'code'));
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'code/train.js'), TRAIN_JS);
    await writeFile(path.join(dir, 'data/a.csv'), '1,2\n3,4\n');
    await writeFile(path.join(dir, 'data/b.csv'), '5,6\n');
    const { code, stdout, stderr } = await smkit([
      'local',
      'train',
      '--entry-point',
      'train.js',
      '--source-dir',
      path.join(dir, 'code'),
      '--channel',
      `train=${path.join(dir, 'data')},mode=Pipe`,
      '--hyperparameters',
      'k=3,name=abc',
      '--output',
      path.join(dir, 'out'),
      '--metric-definitions',
      'train:loss=train_loss=(\\S+)',
      '--json',
    ]);
    expect(stderr).toContain('algo-1 | train_loss=0.3');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.status).toBe('Completed');
    expect(result.metrics).toEqual([{ name: 'train:loss', last: 0.3, min: 0.3, max: 0.3, count: 1 }]);
    const files = await tarFiles(path.join(dir, 'out/model.tar.gz'));
    expect(JSON.parse(files['model.json']!.toString())).toEqual({ rows: 3, hps: { k: 3, name: 'abc' } });
  });

  it('runs two hosts whose names resolve to their loopback addresses, as peers see each other on SageMaker', async () => {
    await mkdir(path.join(dir, 'peers'));
    await writeFile(
      path.join(dir, 'peers/train.mjs'),
      `import { lookup } from 'node:dns/promises';
import fs from 'node:fs';
const host = process.env.SM_CURRENT_HOST;
const peers = {};
for (const name of JSON.parse(process.env.SM_HOSTS)) peers[name] = (await lookup(name)).address;
fs.writeFileSync(process.env.SM_MODEL_DIR + '/peers-' + host + '.json', JSON.stringify(peers));
`,
    );
    const { code, stdout } = await smkit([
      'local',
      'train',
      '--entry-point',
      path.join(dir, 'peers/train.mjs'),
      '--hosts',
      '2',
      '--output',
      path.join(dir, 'peers-out'),
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).model.members).toEqual(['peers-algo-1.json', 'peers-algo-2.json']);
    const files = await tarFiles(path.join(dir, 'peers-out/model.tar.gz'));
    const expected = JSON.stringify({ 'algo-1': '127.0.0.2', 'algo-2': '127.0.0.3' });
    expect(files).toEqual({
      'peers-algo-1.json': Buffer.from(expected),
      'peers-algo-2.json': Buffer.from(expected),
    });
  });

  it('says in one line what to do about a missing channel directory or an unsafe model', async () => {
    const missing = await smkit([
      'local',
      'train',
      '--algorithm',
      'kmeans',
      '--channel',
      'train=/no/such/dir',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "smkit local train: channel 'train': directory /no/such/dir does not exist; pass --channel train=DIR with a directory of data files\n",
    );
    await mkdir(path.join(dir, 'm/model'), { recursive: true });
    await writeFile(path.join(dir, 'm/model/model_algo-1'), 'x');
    await tar.c({ gzip: true, file: path.join(dir, 'nested.tar.gz'), cwd: path.join(dir, 'm') }, ['model']);
    const nested = await smkit(['local', 'serve', '--model', path.join(dir, 'nested.tar.gz'), '--port', '0']);
    expect(nested.code).toBe(1);
    expect(nested.stderr).toMatch(
      /^smkit local serve: .*nested.tar.gz is nested one directory down[^\n]*\n$/,
    );
  });

  it('says Docker is missing when --image cannot run', async () => {
    await expect(checkDocker('docker-not-installed-here')).rejects.toThrow(
      'docker is not installed: install Docker, or drop --image to run smkit without Docker',
    );
  });
});

describe('smkit local train --hosts 2 without root: peers reached through SMKIT_HOST_ADDRESSES', () => {
  const nonRoot = nonRootPrefix();
  const DIM = 5;
  let shared: string;

  beforeAll(async () => {
    // Readable and writable by nobody: data, output and HOME.
    shared = await mkdtemp(path.join(os.tmpdir(), 'smkit-hosts-test-'));
    await chmod(shared, 0o777);
    await mkdir(path.join(shared, 'data'), { mode: 0o755 });
    // Four files of correlated rows, so ShardedByS3Key gives each host two.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    for (const name of ['a', 'b', 'c', 'd']) {
      const rows: string[] = [];
      for (let r = 0; r < 60; r++) {
        const t = random() * 4;
        const u = random();
        rows.push(
          Array.from({ length: DIM }, (_, j) =>
            (t * (j + 1) + u * (DIM - j) + random() * 0.3 * (j + 1)).toFixed(4),
          ).join(','),
        );
      }
      await writeFile(path.join(shared, 'data', `${name}.csv`), `${rows.join('\n')}\n`, { mode: 0o644 });
    }
  });
  afterAll(async () => {
    await rm(shared, { recursive: true, force: true });
  });

  /** Runs `smkit local train` on the shared data; with `json`, keeps the trees to look at the workers'. */
  async function train(
    algorithm: string,
    hyperparameters: string,
    options: { hosts: number; prefix?: readonly string[]; json: boolean },
  ) {
    const output = path.join(shared, `${algorithm}-${options.hosts}`);
    const run = await smkit(
      [
        'local',
        'train',
        '--algorithm',
        algorithm,
        '--hyperparameters',
        hyperparameters,
        '--channel',
        `train=${path.join(shared, 'data')},content-type=text/csv,distribution=ShardedByS3Key`,
        '--hosts',
        String(options.hosts),
        '--output',
        output,
        ...(options.json ? ['--keep', '--json'] : []),
      ],
      options.prefix,
      // A host that cannot reach its peer fails in seconds rather than after the default 900.
      { ...process.env, HOME: shared, SMKIT_HOST_WAIT_SECONDS: '20' },
    );
    expect(run.code, run.stderr).toBe(0);
    const model = await tarFiles(path.join(output, 'model.tar.gz'));
    if (!options.json) return { ...run, output, model, result: undefined, workerModels: [] };
    const result = JSON.parse(run.stdout);
    const workerModels = await Promise.all(
      result.hosts.slice(1).map((h: { host: string }) => readdir(path.join(result.trees, h.host, 'model'))),
    );
    await rm(result.trees, { recursive: true, force: true });
    return { ...run, output, model, result, workerModels };
  }

  it.skipIf(nonRoot.reason)(
    'PCA: both hosts finish, only the leader writes the model, which equals the single-host model',
    async () => {
      const hp = `feature_dim=${DIM},num_components=3,mini_batch_size=25`;
      const two = await train('pca', hp, { hosts: 2, prefix: nonRoot.prefix, json: true });
      expect(two.stderr).toContain('do not resolve here');
      expect(two.stderr).toContain('"addresses":{"algo-1":"127.0.0.2","algo-2":"127.0.0.3"}');
      expect(two.result.status).toBe('Completed');
      expect(two.result.hosts).toEqual([
        { host: 'algo-1', exitCode: 0 },
        { host: 'algo-2', exitCode: 0 },
      ]);
      expect(two.workerModels).toEqual([[]]);
      expect(Object.keys(two.model).sort()).toEqual(['model.json', 'model.onnx', 'model_algo-1']);
      const one = await train('pca', hp, { hosts: 1, json: false });
      // The summary a person reads: status, duration, final metrics (SageMaker's built-in definitions),
      // artifacts; no progress bar when stderr is not a terminal.
      expect(one.stdout).toMatch(
        new RegExp(
          [
            '^Training job smkit-local-\\d+: Completed in \\d+\\.\\d s on 1 host',
            '  algo-1: exit code 0',
            'Final metrics:',
            '  train:progress = 100 \\(1 value\\(s\\), min 100, max 100\\)',
            '  train:throughput = [\\d.]+ \\(1 value\\(s\\), .*\\)',
            `model.tar.gz: ${one.output}/model.tar.gz \\([\\d.]+ (B|KiB): model.json, model.onnx, model_algo-1\\)`,
            `output.tar.gz: ${one.output}/output.tar.gz \\(.*: report.html\\)\n$`,
          ].join('\n'),
        ),
      );
      expect(one.stderr).not.toMatch(/\r|training \[/);
      const merged = decodePca(two.model['model_algo-1']!);
      const single = decodePca(one.model['model_algo-1']!);
      expect(merged.v.length).toBe(DIM * 3);
      // The hosts sum their shards in float32 blocks (as SageMaker's PCA is float32): a Gram matrix
      // whose largest singular value is 136 carries rounding of ~0.03 into the weakest component
      // (s = 5.3, eigengap ~575), so its entries move by up to ~7e-5 with the split; the others by 2e-6.
      for (let i = 0; i < single.v.length; i++) expect(merged.v[i]!).toBeCloseTo(single.v[i]!, 3);
      for (let i = 0; i < 3; i++) expect(merged.s[i]! / single.s[i]!).toBeCloseTo(1, 4);
      for (let i = 0; i < DIM; i++) expect(merged.mean![i]!).toBeCloseTo(single.mean![i]!, 4);
    },
    60_000,
  );

  it.skipIf(nonRoot.reason)(
    'k-means: both hosts finish and only the leader writes k centers',
    async () => {
      const two = await train('kmeans', `k=3,feature_dim=${DIM},mini_batch_size=20,epochs=2`, {
        hosts: 2,
        prefix: nonRoot.prefix,
        json: true,
      });
      expect(two.stderr).toContain('do not resolve here');
      expect(two.stderr).toContain('algo-2 | {');
      expect(two.stderr).toMatch(/algo-2 \|.*summary sent to the leader/);
      expect(two.result.hosts).toEqual([
        { host: 'algo-1', exitCode: 0 },
        { host: 'algo-2', exitCode: 0 },
      ]);
      expect(two.workerModels).toEqual([[]]);
      const centers = decodeKMeans(two.model['model_algo-1']!);
      expect(centers).toMatchObject({ k: 3, dim: DIM });
      // --json for scripts: the built-in metric definitions apply without --metric-definitions.
      const metric = (name: string) => two.result.metrics.find((m: { name: string }) => m.name === name);
      expect(metric('train:progress')).toEqual({
        name: 'train:progress',
        last: 100,
        min: 50,
        max: 100,
        count: 4,
      });
      expect(metric('train:msd')).toMatchObject({ count: 1 });
      expect(metric('train:msd').last).toBeGreaterThan(0);
    },
    60_000,
  );
});
