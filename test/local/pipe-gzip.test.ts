import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = path.resolve('test/support/smkit-cli.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-pipe-gzip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function smkit(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('smkit local train, Pipe mode, compression=Gzip', () => {
  it('fails the job on plain data in one line naming the file, and leaves no job tree', async () => {
    const data = path.join(dir, 'plain');
    await mkdir(data);
    await writeFile(path.join(data, 'a.csv'), '1,2\n3,4\n5,6\n');
    const tmp = path.join(dir, 'tmp');
    await mkdir(tmp);
    const run = await smkit(
      [
        'local',
        'train',
        '--algorithm',
        'kmeans',
        '--hyperparameters',
        'k=2,feature_dim=2',
        '--channel',
        `train=${data},mode=Pipe,compression=Gzip,content-type=text/csv`,
        '--output',
        path.join(dir, 'out'),
      ],
      { TMPDIR: tmp },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `FailureReason: ClientError: channel 'train' declares compression=Gzip (CompressionType Gzip) but ${path.join(data, 'a.csv')} is not gzip data (it does not start with 1f 8b): SageMaker fails a job whose Pipe-mode objects do not decompress; gzip the files or drop compression=Gzip`,
    );
    expect(run.stdout + run.stderr).not.toContain('incorrect header check');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect((await readdir(tmp)).filter((name) => name.startsWith('smkit-'))).toEqual([]);
  });
});
