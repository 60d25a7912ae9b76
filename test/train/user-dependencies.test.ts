import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { createJobTree, readFailure, runJob } from './job-tree.js';

const run = promisify(execFile);
const TRAIN = `const fs = require('node:fs');
fs.writeFileSync(require('node:path').join(process.env.SM_MODEL_DIR, 'model.txt'), require('greeting'));
`;

/** A registry nobody listens on: any npm request to it fails with ECONNREFUSED at once. */
let npmEnv: Record<string, string>;
beforeAll(async () => {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  npmEnv = {
    npm_config_registry: `http://127.0.0.1:${port}/`,
    npm_config_fetch_retries: '0',
    npm_config_cache: await mkdtemp(path.join(os.tmpdir(), 'smkit-npm-cache-')),
    npm_config_update_notifier: 'false',
  };
});

/** A source dir with train.js, a package.json and, with `dependency`, a local `file:` package. */
async function sourceDir(dependencies: Record<string, string>, files: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smkit-sourcedir-'));
  const all: Record<string, string> = {
    'train.js': TRAIN,
    'package.json': JSON.stringify({ name: 'user-train', version: '1.0.0', private: true, dependencies }),
    'vendor/greeting/package.json': JSON.stringify({ name: 'greeting', version: '1.0.0', main: 'index.js' }),
    'vendor/greeting/index.js': "module.exports = 'hello from a file: dependency';\n",
    ...files,
  };
  for (const [name, text] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

async function trainFrom(source: string) {
  const paths = await createJobTree({
    hyperparameters: { sagemaker_program: '"train.js"', sagemaker_submit_directory: JSON.stringify(source) },
  });
  const code = await runJob(paths, npmEnv);
  const model = await readFile(path.join(paths.model, 'model.txt'), 'utf8').catch(() => undefined);
  return { paths, code, model, failure: await readFailure(paths) };
}

describe('user-code dependencies in script mode', () => {
  test('package.json and a lock file without node_modules: npm ci installs them before the script', async () => {
    const source = await sourceDir({ greeting: 'file:./vendor/greeting' });
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts'], {
      cwd: source,
      // Under `npx vitest` npm_config_local_prefix names smkit's own checkout: npm would write there.
      env: { ...process.env, npm_config_local_prefix: source, ...npmEnv },
    });
    const job = await trainFrom(source);
    expect(job.failure).toBeUndefined();
    expect(job.code).toBe(0);
    expect(job.model).toBe('hello from a file: dependency');
    expect(await readdir(path.join(job.paths.code, 'node_modules'))).toContain('greeting');
  }, 60_000);

  test('package.json without a lock file: npm install', async () => {
    const job = await trainFrom(await sourceDir({ greeting: 'file:./vendor/greeting' }));
    expect(job.failure).toBeUndefined();
    expect(job.model).toBe('hello from a file: dependency');
  }, 60_000);

  test('shipped node_modules are used as they are: npm does not run', async () => {
    const source = await sourceDir(
      { greeting: '1.0.0' },
      { 'node_modules/greeting/index.js': "module.exports = 'shipped';\n" },
    );
    const job = await trainFrom(source);
    expect(job.failure).toBeUndefined();
    expect(job.model).toBe('shipped');
  }, 60_000);

  test("an unreachable registry fails the job naming npm's error and what to do", async () => {
    const job = await trainFrom(await sourceDir({ 'left-pad': '1.3.0' }));
    expect(job.code).toBe(1);
    expect(job.failure).toMatch(
      new RegExp(
        `^cannot install the dependencies in ${job.paths.code}/package.json: npm install --ignore-scripts --no-audit --no-fund exited with code 1: npm error code ECONNREFUSED[^\\n]*\\. Without network access \\(network isolation\\) ship node_modules in the source dir\\.\\n$`,
      ),
    );
    expect(job.model).toBeUndefined();
  }, 60_000);
});
