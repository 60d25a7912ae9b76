import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDocker } from '../../src/local/docker.js';

const CLI = path.resolve('test/train/fixtures/smkit-cli.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-cli-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function smkit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
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
    const files: Record<string, string> = {};
    await tar.t({
      file: path.join(dir, 'out/model.tar.gz'),
      onReadEntry: (entry) => {
        entry.on('data', (chunk: Buffer) => {
          files[entry.path] = (files[entry.path] ?? '') + chunk.toString();
        });
      },
    });
    expect(JSON.parse(files['model.json']!)).toEqual({ rows: 3, hps: { k: 3, name: 'abc' } });
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
    const files: Record<string, string> = {};
    await tar.t({
      file: path.join(dir, 'peers-out/model.tar.gz'),
      onReadEntry: (entry) => entry.on('data', (chunk: Buffer) => (files[entry.path] = chunk.toString())),
    });
    const expected = JSON.stringify({ 'algo-1': '127.0.0.2', 'algo-2': '127.0.0.3' });
    expect(files).toEqual({ 'peers-algo-1.json': expected, 'peers-algo-2.json': expected });
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
