import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { writeTarBomb } from '../io/tar-bomb.js';
import { createJobTree, readFailure, startSmkitTrain } from './job-tree.js';

const MAX_RSS = pathToFileURL(path.resolve('test/support/max-rss.mjs')).href;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Node, tsx and the runner take about 150 MB; main reached > 1 GiB on these archives before failing. */
const PEAK_RSS_BOUND_KB = 300 * 1024;

/** `smkit train` on a job whose sagemaker_submit_directory is `archive`, with its peak RSS. */
async function train(
  archive: (base: string) => Promise<string>,
  env: Record<string, string> = {},
): Promise<{ code: number; failure: string | undefined; peakRssKb: number; codeDir: string }> {
  const paths = await createJobTree({});
  const file = await archive(paths.base);
  await writeFile(
    paths.hyperparameters,
    JSON.stringify({ sagemaker_program: 'train.sh', sagemaker_submit_directory: file }),
  );
  const rssFile = path.join(paths.base, 'peak-rss');
  const run = startSmkitTrain(paths, {
    NODE_OPTIONS: `--import=${MAX_RSS}`,
    SMKIT_TEST_MAX_RSS_FILE: rssFile,
    ...env,
  });
  // Without the streaming extractor a bomb holds the process for minutes at gigabytes: end it.
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 90_000);
  const code = await run.exited.finally(() => clearTimeout(timer));
  return {
    code,
    failure: await readFailure(paths),
    peakRssKb: Number(await readFile(rssFile, 'utf8')),
    codeDir: paths.code,
  };
}

describe('sourcedir.tar.gz extraction in script mode', () => {
  test('a tar bomb is refused at its header, naming the byte budget, with bounded memory', async () => {
    let bomb = '';
    const run = await train(
      async (base) => {
        bomb = path.join(base, 'sourcedir.tar.gz');
        await writeTarBomb(bomb, [
          { name: 'train.sh', text: 'echo trained\n', mode: 0o755 },
          { name: 'weights.bin', size: 5 * GiB },
        ]);
        return bomb;
      },
      { SMKIT_MAX_EXTRACT_BYTES: String(256 * MiB) },
    );
    expect(run.code).toBe(1);
    expect(run.failure).toBe(
      `refusing to extract ${bomb}: its members hold more than the extraction budget of 256.0 MiB ` +
        "(SMKIT_MAX_EXTRACT_BYTES): 'weights.bin' alone is 5.0 GiB\n",
    );
    expect(run.peakRssKb).toBeLessThan(PEAK_RSS_BOUND_KB);
  }, 100_000);

  test('a large archive within the budget streams to disk with constant memory', async () => {
    const run = await train(async (base) => {
      const file = path.join(base, 'sourcedir.tar.gz');
      await writeTarBomb(file, [
        { name: 'train.sh', text: 'test -s weights.bin && echo trained\n', mode: 0o755 },
        { name: 'weights.bin', size: 384 * MiB },
      ]);
      return file;
    });
    expect(run.failure).toBeUndefined();
    expect(run.code).toBe(0);
    expect((await stat(path.join(run.codeDir, 'weights.bin'))).size).toBe(384 * MiB);
    expect(run.peakRssKb).toBeLessThan(PEAK_RSS_BOUND_KB);
  }, 120_000);
});
