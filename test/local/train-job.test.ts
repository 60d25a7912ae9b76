import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subprocessLauncher } from '../../src/local/host-process.js';
import { parseChannel, parseMetricDefinitions } from '../../src/cli/job-flags.js';
import { encodeRecordIO } from '../../src/io/recordio.js';
import { type LocalTrainOptions, runLocalTraining } from '../../src/local/train-job.js';

const FAKE = path.resolve('test/fixtures/local/fake-train.mjs');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-train-test-'));
  await mkdir(path.join(dir, 'data/sub'), { recursive: true });
  for (const [name, text] of [
    ['a.csv', '1,2\n'],
    ['b.csv', '3,4\n'],
    ['c.csv', '5,6\n'],
    ['sub/d.csv', '7,8\n'],
  ] as const) {
    await writeFile(path.join(dir, 'data', name), text);
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<LocalTrainOptions>): LocalTrainOptions {
  return {
    jobName: 'job-1',
    algorithm: 'fake',
    hyperparameters: {},
    channels: [parseChannel(`train=${path.join(dir, 'data')}`)],
    hosts: 1,
    outputDir: path.join(dir, 'out'),
    metricDefinitions: parseMetricDefinitions('loss=loss: (\\S+);train_loss=train loss=(\\S+)'),
    launcher: subprocessLauncher([process.execPath, FAKE], { PATH: process.env.PATH }),
    stopGraceSeconds: 2,
    ...overrides,
  };
}

async function untar(file: string): Promise<Record<string, string>> {
  const target = await mkdtemp(path.join(dir, 'untar-'));
  await tar.x({ file, cwd: target });
  const files: Record<string, string> = {};
  for (const name of (await readdir(target, { recursive: true, withFileTypes: true })).filter((e) =>
    e.isFile(),
  )) {
    const full = path.join(name.parentPath, name.name);
    files[path.relative(target, full)] = await readFile(full, 'utf8');
  }
  return files;
}

describe('runLocalTraining', () => {
  it('shards files over hosts, passes the host map, and merges model trees into one model.tar.gz', async () => {
    const channels = [
      parseChannel(`train=${path.join(dir, 'data')},distribution=ShardedByS3Key,content-type=text/csv`),
      parseChannel(`test=${path.join(dir, 'data')}`),
    ];
    const progress: string[] = [];
    const result = await runLocalTraining(
      options({
        channels,
        hosts: 2,
        hyperparameters: { k: '3', force_dense: true },
        onProgress: (host, percent) => progress.push(`${host} ${percent}`),
      }),
    );
    expect(result.status).toBe('Completed');
    expect(progress.sort()).toEqual(['algo-1 50', 'algo-2 50']);
    expect(result.hosts.map((h) => h.exitCode)).toEqual([0, 0]);
    const model = await untar(result.model!.file);
    expect(Object.keys(model).sort()).toEqual(['report-algo-1.json', 'report-algo-2.json']);
    const one = JSON.parse(model['report-algo-1.json']!);
    const two = JSON.parse(model['report-algo-2.json']!);
    expect(one.channels.train).toEqual(['a.csv', 'c.csv']);
    expect(two.channels.train).toEqual(['b.csv', 'sub', 'sub/d.csv']);
    expect(one.channels.test).toEqual(['a.csv', 'b.csv', 'c.csv', 'sub', 'sub/d.csv']);
    expect(one.hps).toEqual({ k: '3', force_dense: 'True' });
    expect(one.env).toEqual({ job: 'job-1', hosts: 'algo-1=127.0.0.2,algo-2=127.0.0.3', algorithm: 'fake' });
    expect(await untar(result.output!.file)).toEqual({ 'done-algo-1.txt': 'ok', 'done-algo-2.txt': 'ok' });
    expect(result.metrics).toEqual([
      { name: 'loss', last: 0.1, min: 0.1, max: 0.9, count: 4 },
      { name: 'train_loss', last: 0.25, min: 0.25, max: 0.25, count: 2 },
    ]);
  });

  it('encodes script-mode hyperparameters as the Python SDK does and copies the code', async () => {
    const code = path.join(dir, 'code');
    await mkdir(code);
    await writeFile(path.join(code, 'train.js'), '');
    const result = await runLocalTraining(
      options({
        algorithm: undefined,
        entryPoint: 'train.js',
        sourceDir: code,
        hyperparameters: { epochs: '2', name: 'abc', flag: 'True', list: '[1,2]' },
        hyperparametersFromCli: new Set(['epochs', 'name', 'flag', 'list']),
        keepTrees: true,
        workDir: path.join(dir, 'trees'),
      }),
    );
    expect(result.status).toBe('Completed');
    const report = JSON.parse((await untar(result.model!.file))['report-algo-1.json']!);
    expect(report.hps).toEqual({
      epochs: '2',
      name: '"abc"',
      flag: 'true',
      list: '[1,2]',
      sagemaker_program: '"train.js"',
      sagemaker_submit_directory: JSON.stringify(path.join(dir, 'trees/algo-1/code')),
      sagemaker_container_log_level: '20',
      sagemaker_job_name: '"job-1"',
      sagemaker_region: '"us-east-1"',
    });
    expect(await readdir(path.join(dir, 'trees/algo-1/code'))).toEqual(['train.js']);
  });

  it('an image of your own trains with neither an algorithm nor an entry point: its hyperparameters as given', async () => {
    const result = await runLocalTraining(
      options({
        algorithm: undefined,
        image: 'my-container',
        hyperparameters: { smkit_algorithm: 'zscore', k: '2' },
      }),
    );
    expect(result.status).toBe('Completed');
    const report = JSON.parse((await untar(result.model!.file))['report-algo-1.json']!);
    expect([report.hps, report.env.algorithm]).toEqual([{ smkit_algorithm: 'zscore', k: '2' }, undefined]);
  });

  it('refuses a job with neither an algorithm nor an entry point without an image, and one with both', async () => {
    await expect(runLocalTraining(options({ algorithm: undefined }))).rejects.toThrow(
      /^give either --algorithm kmeans\|pca or --entry-point FILE \(or --image IMAGE, whose entry point decides what it trains\)$/,
    );
    await expect(runLocalTraining(options({ entryPoint: 'train.js' }))).rejects.toThrow(
      /^give either --algorithm kmeans\|pca or --entry-point FILE$/,
    );
  });

  it('feeds Pipe-mode FIFOs epoch after epoch, gunzipped and RecordIO-wrapped', async () => {
    const gz = path.join(dir, 'gz');
    await mkdir(gz);
    await writeFile(path.join(gz, 'a.gz'), gzipSync('hello'));
    await writeFile(path.join(gz, 'b.gz'), gzipSync('pipes!!!'));
    const channels = [
      parseChannel(`train=${gz},mode=Pipe,compression=Gzip,wrapper=RecordIO`),
      parseChannel(`plain=${path.join(dir, 'data')},mode=Pipe`),
    ];
    const result = await runLocalTraining(options({ channels, hyperparameters: { epochs: '2' } }));
    expect(result.status).toBe('Completed');
    const report = JSON.parse((await untar(result.model!.file))['report-algo-1.json']!);
    const wrapped = Buffer.concat([
      encodeRecordIO(Buffer.from('hello')),
      encodeRecordIO(Buffer.from('pipes!!!')),
    ]);
    expect(report.channels.train).toEqual([wrapped.toString('base64'), wrapped.toString('base64')]);
    const plain = Buffer.from('1,2\n3,4\n5,6\n7,8\n').toString('base64');
    expect(report.channels.plain).toEqual([plain, plain]);
    expect(result.pipes.map((p) => [p.channel, p.epochs, p.bytes])).toEqual([
      ['train', 2, wrapped.length * 2],
      ['plain', 2, 32],
    ]);
  });

  it("reports a failure in SageMaker's words with the failure file and exit code", async () => {
    const result = await runLocalTraining(options({ hyperparameters: { behavior: 'fail' } }));
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toBe('AlgorithmError: feature_dim must be 4 (got 3), exit code: 3');
    expect(result.model).toBeUndefined();
    const silent = await runLocalTraining(options({ hyperparameters: { behavior: 'crash' } }));
    expect(silent.failureReason).toBe('AlgorithmError: See job logs for more information, exit code: 2');
  });

  it('fails when two hosts write the same model file with different bytes', async () => {
    const result = await runLocalTraining(options({ hosts: 2, hyperparameters: { behavior: 'clash' } }));
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toMatch(/^ClientError: same.txt was written by algo-1 and algo-2/);
  });

  it('sends SIGTERM at MaxRuntime and keeps what the job saved', async () => {
    const result = await runLocalTraining(
      options({ maxRuntimeSeconds: 3, hyperparameters: { behavior: 'sleep' } }),
    );
    expect(result.status).toBe('Stopped');
    expect(result.secondaryStatus).toBe('MaxRuntimeExceeded');
    expect(result.hosts[0]!.exitCode).toBe(143);
    expect(await untar(result.model!.file)).toEqual({ 'stopped-algo-1.txt': 'saved on SIGTERM' });
  });

  it('sends SIGKILL when the job ignores SIGTERM past the grace period', async () => {
    const stop = new AbortController();
    const result = await runLocalTraining(
      options({
        signal: stop.signal,
        stopGraceSeconds: 0.5,
        hyperparameters: { behavior: 'sleep', ignore_term: 'true' },
        onLog: (_host, line) => line === 'ready' && stop.abort(),
      }),
    );
    expect(result.status).toBe('Stopped');
    expect(result.hosts[0]!.exitCode).toBe(137);
  });

  it('sweeps the job tree of a run killed with SIGKILL on the next run, and keeps --keep trees', async () => {
    // A run in its own process group, killed (with its job) before it could clean up.
    const script = `
      import { runLocalTraining } from ${JSON.stringify(path.resolve('src/local/train-job.ts'))};
      import { subprocessLauncher } from ${JSON.stringify(path.resolve('src/local/host-process.ts'))};
      await runLocalTraining({ jobName: 'killed', algorithm: 'fake', hyperparameters: { behavior: 'sleep' },
        channels: [], hosts: 1, outputDir: ${JSON.stringify(path.join(dir, 'killed-out'))}, metricDefinitions: [],
        launcher: subprocessLauncher([process.execPath, ${JSON.stringify(FAKE)}], { PATH: process.env.PATH }) });`;
    const killed = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      detached: true,
      stdio: 'ignore',
    });
    const ownTree = (name: string) => name.startsWith(`smkit-job-${killed.pid}-`);
    let tree: string | undefined;
    for (let tries = 0; !tree && tries < 300; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      tree = (await readdir(os.tmpdir())).find(ownTree);
    }
    expect(tree).toBeDefined();
    const exited = once(killed, 'exit');
    process.kill(-killed.pid!, 'SIGKILL');
    await exited;
    expect((await readdir(os.tmpdir())).filter(ownTree)).toEqual([tree]);

    await runLocalTraining(options({}));
    expect((await readdir(os.tmpdir())).filter(ownTree)).toEqual([]);
    const kept = await runLocalTraining(options({ keepTrees: true }));
    await runLocalTraining(options({}));
    expect(await readdir(path.join(kept.trees!, 'algo-1', 'model'))).toEqual(['report-algo-1.json']);
    await rm(kept.trees!, { recursive: true, force: true });
  });

  it('names a missing channel directory', async () => {
    await expect(
      runLocalTraining(options({ channels: [parseChannel('train=/nonexistent/x')] })),
    ).rejects.toThrow(
      "channel 'train': directory /nonexistent/x does not exist; pass --channel train=DIR with a directory of data files",
    );
  });
});
