import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Env, readServingSettings, readTrainingSettings } from '../../src/contract/env.js';

const CLI = [process.execPath, '--import', 'tsx', path.resolve('test/support/smkit-cli.ts')];

function smkit(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(CLI[0]!, [...CLI.slice(1), ...args], (error, stdout) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

/** The names a settings reader looks up, found by handing it an environment that records every read. */
function variablesReadBy(read: (env: Env) => unknown): string[] {
  const names = new Set<string>();
  const env = new Proxy({} as Env, {
    get: (_target, name) => {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  read(env);
  return [...names].sort();
}

describe('smkit --help and --version', () => {
  it("prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await smkit(['--version'])).toEqual({ code: 0, stdout: `${version}\n` });
  });

  it.each([
    ['train', readTrainingSettings],
    ['serve', readServingSettings],
  ] as const)('lists every environment variable `%s` reads', async (command, read) => {
    const { code, stdout } = await smkit([command, '--help']);
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Environment variables:'));
    const read_ = variablesReadBy(read);
    expect(read_.length).toBeGreaterThan(5);
    expect(read_.filter((name) => !new RegExp(`\\b${name}\\b`).test(section))).toEqual([]);
  });

  it('marks required options and only those', async () => {
    const { stdout } = await smkit(['local', 'transform', '--help']);
    const line = (flag: string) => stdout.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';
    for (const flag of ['--input <dir>', '--output <dir>', '--content-type <type>']) {
      expect(line(flag)).toMatch(/\(required\)$/);
    }
    expect(line('--accept <type>')).not.toMatch(/required/);
    expect((await smkit(['local', 'invoke', '--help'])).stdout).toMatch(/--body <file\|->.*\(required\)/);
  });

  it.each([
    [['local', 'train'], '--algorithm <name>', /or --entry-point; an --image of your own may need neither/],
    [['local', 'train'], '--entry-point <file>', /script mode: the training script \(or --algorithm\)/],
    [['train-job'], '--algorithm <name>', /or --entry-point; an --image of your own may need neither/],
    [['local', 'serve'], '--model <file|dir>', /this or --multi-model is required/],
    [['local', 'transform'], '--model <file|dir>', /this or --endpoint is required/],
    [['deploy'], '--image <uri>', /required unless --model-package/],
    [['deploy'], '--model-data <file|s3-uri>', /required unless --model-package/],
    [['deploy'], '--instance-type <type>', /required unless --serverless/],
    [['transform-job'], '--model <name>', /this or --image with --model-data is required/],
  ])(
    'says when one of two options is required, or can replace another: %s %s',
    async (command, flag, rule) => {
      const { stdout } = await smkit([...command, '--help']);
      // commander wraps long descriptions: read the option's whole entry, up to the next option.
      const entry = stdout
        .slice(stdout.indexOf(`  ${flag}`))
        .split(/\n {2}-/)[0]!
        .replace(/\s+/g, ' ');
      expect(entry).toMatch(rule);
    },
  );
});
