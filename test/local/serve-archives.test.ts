import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTarBomb } from '../io/tar-bomb.js';

const CLI = path.resolve('test/support/smkit-cli.ts');
const MAX_RSS = pathToFileURL(path.resolve('test/support/max-rss.mjs')).href;
const GiB = 2 ** 30;
/**
 * Node, tsx and smkit take about 150 MB before any archive is read; the 5 GiB bomb drove the
 * extracting process past 1 GiB before this bound existed.
 */
const PEAK_RSS_BOUND_KB = 300 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-serve-archives-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `smkit local serve --model FILE` as a user runs it; resolves when it exits (it must fail fast here). */
async function serve(
  model: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; peakRssKb: number }> {
  const rssFile = path.join(dir, `rss-${path.basename(model)}`);
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, 'local', 'serve', '--model', model, '--port', '0'],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: `--import=${MAX_RSS}`,
          SMKIT_TEST_MAX_RSS_FILE: rssFile,
          ...env,
        },
        timeout: 90_000,
        killSignal: 'SIGKILL',
      },
      (error, _stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  return { code, stderr, peakRssKb: Number(await readFile(rssFile, 'utf8').catch(() => 'NaN')) };
}

describe('smkit local serve on a bad model archive', () => {
  it('refuses a tar bomb at its header, naming the byte budget, with bounded memory', async () => {
    const bomb = path.join(dir, 'bomb.tar.gz');
    await writeTarBomb(bomb, [{ name: 'model_algo-1', size: 5 * GiB }]);
    const run = await serve(bomb, { SMKIT_MAX_EXTRACT_BYTES: String(64 * 2 ** 20) });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `smkit local serve: refusing to extract ${bomb}: its members hold more than the extraction budget ` +
        "of 64.0 MiB (SMKIT_MAX_EXTRACT_BYTES): 'model_algo-1' alone is 5.0 GiB\n",
    );
    expect(run.peakRssKb).toBeLessThan(PEAK_RSS_BOUND_KB);
  }, 100_000);

  it('refuses a tar bomb over the free space of the target by default, naming it', async () => {
    const bomb = path.join(dir, 'huge.tar.gz');
    // 1 PiB declared in one header (followed by only 16 MiB): no disk here has that much free.
    await writeTarBomb(bomb, [{ name: 'model_algo-1', size: 16 * 2 ** 20, declaredSize: 2 ** 50 }]);
    const run = await serve(bomb);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^smkit local serve: refusing to extract ${bomb}: its members hold more than the extraction budget of [\\d.]+ [KMGT]iB \\(the free space of \\S+; set SMKIT_MAX_EXTRACT_BYTES to choose another\\): 'model_algo-1' alone is 1024.0 TiB\\n$`,
      ),
    );
    expect(run.peakRssKb).toBeLessThan(PEAK_RSS_BOUND_KB);
  });

  it.each<[string, () => Buffer, RegExp]>([
    [
      'a corrupt gzip',
      () => {
        const gz = gzipSync(randomBytes(4096));
        gz.fill(0xff, 10, 40);
        return gz;
      },
      /: cannot read the archive \S+: the gzip data is corrupt or truncated \([^\n]+\)$/,
    ],
    [
      'random bytes',
      () => randomBytes(4096).fill(0x41, 0, 2),
      /: cannot read the archive \S+: it is not a tar or tar.gz archive \([^\n]+\)$/,
    ],
    [
      'an empty tar',
      () => gzipSync(Buffer.alloc(1024)),
      /: \S+ holds no files: SageMaker unpacks it into \/opt\/ml\/model; create it from the model directory with `tar -C model -czf model.tar.gz .`$/,
    ],
  ])('answers %s with one line and exit code 1', async (what, bytes, message) => {
    const file = path.join(dir, `${what.replaceAll(' ', '-')}.tar.gz`);
    await writeFile(file, bytes());
    const run = await serve(file);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toEqual([expect.stringMatching(/^smkit local serve: /), '']);
    expect(run.stderr.trimEnd()).toMatch(message);
  });
});
