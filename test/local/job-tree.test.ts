import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannel } from '../../src/cli/job-flags.js';
import { buildJobTrees, shardFiles, shuffleFiles } from '../../src/local/job-tree.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-job-tree-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('shardFiles', () => {
  it('gives each host every n-th object for ShardedByS3Key and all of them otherwise', () => {
    const files = ['a', 'b', 'c', 'd', 'e'];
    expect([0, 1].map((i) => shardFiles(files, 'ShardedByS3Key', i, 2))).toEqual([
      ['a', 'c', 'e'],
      ['b', 'd'],
    ]);
    expect(shardFiles(files, 'FullyReplicated', 1, 2)).toEqual(files);
  });
});

describe('shuffle=SEED', () => {
  const names = Array.from({ length: 20 }, (_, i) => `part-${String(i).padStart(2, '0')}`);

  it('gives the same permutation for the same seed and another for another seed', () => {
    const once = shuffleFiles(names, 7);
    expect(shuffleFiles(names, 7)).toEqual(once);
    expect([...once].sort()).toEqual(names);
    expect(once).not.toEqual(names);
    expect(shuffleFiles(names, 8)).not.toEqual(once);
  });

  it('feeds a Pipe channel its files in the shuffled order, and the sorted order without a seed', async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    for (const name of names) await writeFile(path.join(data, name), name);
    const pipeFiles = async (spec: string) => {
      const [tree] = await buildJobTrees({
        root: path.join(dir, `tree-${spec.length}`),
        hosts: 1,
        channels: [parseChannel(spec)],
        hyperparameters: () => ({}),
      });
      return tree!.pipes[0]!.files.map((file) => path.basename(file));
    };
    expect(await pipeFiles(`train=${data},mode=Pipe`)).toEqual(names);
    expect(await pipeFiles(`train=${data},mode=Pipe,shuffle=7`)).toEqual(shuffleFiles(names, 7));
  });

  it('refuses an s3:// channel in local mode, saying how to get the data', async () => {
    await expect(
      buildJobTrees({
        root: dir,
        hosts: 1,
        channels: [parseChannel('train=s3://bucket/train')],
        hyperparameters: () => ({}),
      }),
    ).rejects.toThrow(
      "channel 'train': local mode reads channels from directories, not s3://bucket/train; download it first",
    );
  });
});
