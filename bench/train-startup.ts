/**
 * Script-mode overhead of `smkit train`: a job whose script writes one model file, run through
 * `./bin/smkit train` against the same script run by bare `node` (the peer, same run), in alternating
 * rounds; plus how long a SIGTERM sent to `smkit train` takes to reach the script's handler.
 *
 * Usage: npm run build && node dist/bench/train-startup.js [--runs 15]
 * Writes bench/results/train-startup.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(HERE, '../..')
  : path.resolve(HERE, '..');
const SMKIT = path.join(ROOT, 'bin', 'smkit');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(args.runs);

function jobTree(script: string): string {
  const base = mkdtempSync(path.join(os.tmpdir(), 'smkit-bench-train-'));
  mkdirSync(path.join(base, 'input', 'config'), { recursive: true });
  mkdirSync(path.join(base, 'code'));
  mkdirSync(path.join(base, 'model'));
  writeFileSync(
    path.join(base, 'input', 'config', 'hyperparameters.json'),
    '{"sagemaker_program":"\\"train.js\\""}',
  );
  writeFileSync(path.join(base, 'code', 'train.js'), script);
  return base;
}

function timeMs(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const base = jobTree("require('node:fs').writeFileSync(process.env.SM_MODEL_DIR + '/model.json', '{}');\n");
const smkitMs: number[] = [];
const nodeMs: number[] = [];
for (let round = 0; round < RUNS; round++) {
  smkitMs.push(
    timeMs(() =>
      execFileSync(SMKIT, ['train'], { env: { ...process.env, SAGEMAKER_BASE_DIR: base }, stdio: 'ignore' }),
    ),
  );
  nodeMs.push(
    timeMs(() =>
      execFileSync(process.execPath, [path.join(base, 'code', 'train.js')], {
        env: { ...process.env, SM_MODEL_DIR: path.join(base, 'model') },
        stdio: 'ignore',
      }),
    ),
  );
}

// SIGTERM latency: the script records when its handler ran; we record when we sent the signal.
const termBase = jobTree(`
const fs = require('node:fs');
process.on('SIGTERM', () => { fs.writeFileSync(process.env.SM_OUTPUT_DATA_DIR + '/got', String(Date.now())); process.exit(0); });
fs.writeFileSync(process.env.SM_OUTPUT_DATA_DIR + '/ready', '');
setInterval(() => {}, 1000);
`);
const termMs: number[] = [];
for (let round = 0; round < Math.min(RUNS, 5); round++) {
  const ready = path.join(termBase, 'output', 'data', 'ready');
  const got = path.join(termBase, 'output', 'data', 'got');
  rmSync(ready, { force: true });
  rmSync(got, { force: true });
  const child = spawn(SMKIT, ['train'], {
    env: { ...process.env, SAGEMAKER_BASE_DIR: termBase },
    stdio: 'ignore',
  });
  while (!existsSync(ready)) await new Promise((resolve) => setTimeout(resolve, 20));
  const sent = Date.now();
  child.kill('SIGTERM');
  await once(child, 'exit');
  termMs.push(Number(readFileSync(got, 'utf8')) - sent);
}

const result = {
  runs: RUNS,
  loadAverage: os.loadavg()[0],
  smkitTrainMedianMs: Math.round(median(smkitMs)),
  bareNodeMedianMs: Math.round(median(nodeMs)),
  overheadMs: Math.round(median(smkitMs) - median(nodeMs)),
  ratio: Number((median(smkitMs) / median(nodeMs)).toFixed(2)),
  sigtermToScriptMedianMs: median(termMs),
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  path.join(ROOT, 'bench', 'results', 'train-startup.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
