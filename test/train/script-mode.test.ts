import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { checkpointOnSigtermScript } from '../support/checkpoint-script.js';
import { runScript } from '../../src/train/script-mode.js';
import {
  createJobTree,
  readFailure,
  runJob,
  runSmkitTrain,
  startSmkitTrain,
  waitForFile,
} from './job-tree.js';

const TRAIN_JS = `
const fs = require('node:fs');
const path = require('node:path');
const rows = fs.readFileSync(path.join(process.env.SM_CHANNEL_TRAIN, 'data.csv'), 'utf8').trim().split('\\n');
fs.writeFileSync(path.join(process.env.SM_MODEL_DIR, 'model.json'), JSON.stringify({ rows: rows.length }));
console.log('train_loss=0.25');
`;

const program = (name: string) => ({ sagemaker_program: JSON.stringify(name) });

// Each test starts the CLI through tsx, which takes seconds on a loaded machine.
describe.concurrent('smkit train as a process', { timeout: 120_000 }, () => {
  test('a JS script reading SM_CHANNEL_TRAIN and writing SM_MODEL_DIR/model.json exits 0', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      inputDataConfig: { train: { TrainingInputMode: 'File' } },
      code: { 'train.js': TRAIN_JS },
      data: { 'train/data.csv': '1,2\n3,4\n5,6\n' },
    });
    const { code, stdout } = await runSmkitTrain(paths);
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(path.join(paths.model, 'model.json'), 'utf8'))).toEqual({ rows: 3 });
    expect(stdout).toContain('train_loss=0.25\n');
    expect(await readFailure(paths)).toBeUndefined();
  });

  test('a throwing script exits non-zero with the error at the start of output/failure', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      code: {
        'train.js': "console.error('loading data');\nthrow new RangeError('learning rate too high');\n",
      },
    });
    const { code, stderr } = await runSmkitTrain(paths);
    expect(code).toBe(1);
    const failure = (await readFailure(paths))!;
    expect(failure.slice(0, 1024)).toContain(
      'ExecuteUserScriptError: train.js exited with code 1: RangeError: learning rate too high',
    );
    expect(failure).toContain('loading data');
    expect(stderr).toContain('loading data');
    expect(await readdir(paths.model)).toEqual([]);
  });

  test('SIGTERM to smkit train reaches the script, which saves a checkpoint and exits', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      code: {
        'train.js': checkpointOnSigtermScript(3),
      },
    });
    const run = startSmkitTrain(paths);
    await waitForFile(path.join(paths.outputData, 'started'));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(await readFile(path.join(paths.checkpoints, 'ckpt.json'), 'utf8')).toBe('{"epoch":3}');
  });

  test('a script that dies of the forwarded SIGTERM ends the job with 143 and says it was stopped', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.sh'),
      code: { 'train.sh': 'touch "$SM_OUTPUT_DATA_DIR/ready"\nsleep 30 & wait\n' },
    });
    const run = startSmkitTrain(paths);
    await waitForFile(path.join(paths.outputData, 'ready'));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(await readFailure(paths)).toMatch(/^training stopped: SIGTERM .* was forwarded to train.sh/);
  });
});

describe('script mode', () => {
  test('SAGEMAKER_PROGRAM selects the script when no hyperparameter does', async () => {
    const paths = await createJobTree({
      inputDataConfig: { train: {} },
      code: { 'train.js': TRAIN_JS },
      data: { 'train/data.csv': '1\n' },
    });
    const code = await runJob(paths, { SAGEMAKER_PROGRAM: 'train.js' });
    expect(code).toBe(0);
    expect(await readFile(path.join(paths.model, 'model.json'), 'utf8')).toBe('{"rows":1}');
  });

  test('a failure file written by the script is kept as it is', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      code: {
        'train.js':
          "require('node:fs').writeFileSync(process.env.SM_OUTPUT_DIR + '/failure', 'my own reason');\nprocess.exit(3);\n",
      },
    });
    const code = await runJob(paths);
    expect(code).toBe(3);
    expect(await readFailure(paths)).toBe('my own reason');
  });

  test('a stale failure file from an earlier run is replaced', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      code: { 'train.js': 'process.exit(2);\n' },
    });
    await runJob(paths);
    await writeFile(paths.failure, 'old');
    const code = await runJob(paths);
    expect(code).toBe(2);
    expect(await readFailure(paths)).toMatch(/^ExecuteUserScriptError: train.js exited with code 2/);
  });

  test('a script killed by SIGKILL is reported as out of memory with exit code 137', async () => {
    const paths = await createJobTree({
      hyperparameters: program('train.js'),
      code: { 'train.js': "console.error('allocating');\nprocess.kill(process.pid, 'SIGKILL');\n" },
    });
    const code = await runJob(paths);
    expect(code).toBe(137);
    expect(await readFailure(paths)).toMatch(
      /^out of memory: the user script train.js was killed by SIGKILL/,
    );
  });

  test.each([
    ['train.mjs', "import fs from 'node:fs';\nfs.writeFileSync(process.env.SM_MODEL_DIR + '/out', 'mjs');\n"],
    [
      'train.ts',
      "import fs from 'node:fs';\nconst kind: string = 'ts';\nfs.writeFileSync(process.env.SM_MODEL_DIR + '/out', kind);\n",
    ],
    ['train.sh', 'printf sh > "$SM_MODEL_DIR/out"\n'],
    ['train', '#!/bin/sh\nprintf exe > "$SM_MODEL_DIR/out"\n'],
    ['train.py', "import os\nopen(os.environ['SM_MODEL_DIR'] + '/out', 'w').write('py')\n"],
  ])('runs the entry point %s', async (name, source) => {
    const paths = await createJobTree({ hyperparameters: program(name), code: { [name]: source } });
    const code = await runJob(paths);
    expect(code).toBe(0);
    const expected = {
      'train.mjs': 'mjs',
      'train.ts': 'ts',
      'train.sh': 'sh',
      train: 'exe',
      'train.py': 'py',
    }[name];
    expect(await readFile(path.join(paths.model, 'out'), 'utf8')).toBe(expected);
  });

  test('a missing entry point fails naming it and the files in the code dir', async () => {
    const paths = await createJobTree({ hyperparameters: program('trian.js'), code: { 'train.js': '' } });
    const code = await runJob(paths);
    expect(code).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^entry point 'trian.js' .* not found in .*code; it holds: train.js/,
    );
  });

  test('exports the SM_* environment of the reference toolkit and --key value arguments', async () => {
    const paths = await createJobTree({
      hyperparameters: {
        sagemaker_program: '"dump.js"',
        sagemaker_region: '"us-west-2"',
        sagemaker_container_log_level: '10',
        sagemaker_job_name: '"job-1"',
        sagemaker_distributed_dataparallel_enabled: 'false',
        'learning-rate': '0.1',
        epochs: '"3"',
        use_bias: 'True',
        layers: '[64,32]',
        optimizer: 'adam',
        smkit_note: 'x',
        b: '1',
      },
      inputDataConfig: { train: { ContentType: 'text/csv' }, test: {} },
      resourceConfig: { current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth1' },
      code: {
        'dump.js': `
const fs = require('node:fs');
const sm = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('SM_')));
fs.writeFileSync(process.env.SM_MODEL_DIR + '/env.json', JSON.stringify({ sm, argv: process.argv.slice(2), cwd: process.cwd() }));
`,
      },
    });
    const code = await runJob(paths);
    expect(code).toBe(0);
    const { sm, argv, cwd } = JSON.parse(await readFile(path.join(paths.model, 'env.json'), 'utf8'));
    const args = ['-b', '1', '--epochs', '3', '--layers', '[64,32]', '--learning-rate', '0.1'];
    args.push('--optimizer', 'adam', '--use_bias', 'true');
    expect(argv).toEqual(args);
    expect(cwd).toBe(paths.code);
    expect(sm).toMatchObject({
      SM_MODEL_DIR: paths.model,
      SM_CHANNELS: '["test","train"]',
      SM_CHANNEL_TRAIN: path.join(paths.inputData, 'train'),
      SM_CHANNEL_TEST: path.join(paths.inputData, 'test'),
      SM_HPS: '{"b":1,"epochs":"3","layers":[64,32],"learning-rate":0.1,"optimizer":"adam","use_bias":true}',
      'SM_HP_LEARNING-RATE': '0.1',
      SM_HP_EPOCHS: '3',
      SM_HP_USE_BIAS: 'true',
      SM_HP_LAYERS: '[64,32]',
      SM_HP_OPTIMIZER: 'adam',
      SM_USER_ARGS: JSON.stringify(args),
      SM_CURRENT_HOST: 'algo-1',
      SM_HOSTS: '["algo-1"]',
      SM_NETWORK_INTERFACE_NAME: 'eth1',
      SM_NUM_CPUS: String(os.availableParallelism()),
      SM_NUM_GPUS: '0',
      SM_OUTPUT_DATA_DIR: paths.outputData,
      SM_OUTPUT_DIR: paths.output,
      SM_INPUT_DIR: paths.input,
      SM_INPUT_CONFIG_DIR: paths.inputConfig,
      SM_INPUT_DATA_CONFIG:
        '{"test":{"RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"File"},' +
        '"train":{"ContentType":"text/csv","RecordWrapperType":"None","S3DistributionType":"FullyReplicated",' +
        '"TrainingInputMode":"File"}}',
      SM_RESOURCE_CONFIG: '{"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth1"}',
      SM_USER_ENTRY_POINT: 'dump.js',
      SM_MODULE_DIR: paths.code,
      SM_MODULE_NAME: 'dump',
      SM_LOG_LEVEL: '10',
      SM_JOB_NAME: 'job-1',
      SM_FRAMEWORK_PARAMS: '{"sagemaker_distributed_dataparallel_enabled":false}',
      SM_CHECKPOINT_DIR: paths.checkpoints,
      SM_IS_MASTER: 'true',
      SM_MASTER_HOSTNAME: 'algo-1',
    });
    expect(Object.keys(sm).filter((key) => key.includes('SMKIT') || key.includes('SAGEMAKER'))).toEqual([]);
    const trainingEnv = JSON.parse(sm.SM_TRAINING_ENV);
    expect(trainingEnv).toMatchObject({
      hyperparameters: { epochs: '3', 'learning-rate': 0.1 },
      channel_input_dirs: { train: path.join(paths.inputData, 'train') },
      hosts: ['algo-1'],
      model_dir: paths.model,
      user_entry_point: 'dump.js',
    });
    expect(Object.keys(trainingEnv)).toEqual([...Object.keys(trainingEnv)].sort());
  });
});

describe('runScript', () => {
  test('a script that ignores the forwarded SIGTERM is killed after the grace period and reported', async () => {
    const paths = await createJobTree({
      code: {
        'stubborn.js':
          "process.on('SIGTERM', () => console.error('ignoring SIGTERM'));\nrequire('node:fs').writeFileSync(process.argv[2], '');\nsetInterval(() => {}, 1000);\n",
      },
    });
    const ready = path.join(paths.base, 'ready');
    const stop = new AbortController();
    const outcome = runScript({
      entryPoint: 'stubborn.js',
      codeDir: paths.code,
      env: process.env,
      script: { env: {}, args: [ready] },
      stop: stop.signal,
      log: pino({ level: 'silent' }),
      graceSeconds: 0.5,
    });
    await waitForFile(ready);
    stop.abort('SIGTERM');
    const { exitCode, failure } = await outcome;
    expect(exitCode).toBe(143);
    expect(failure).toMatch(
      /^training stopped: stubborn.js did not exit within 0.5 s of the forwarded SIGTERM/,
    );
    expect(failure).toContain('ignoring SIGTERM');
  });
});
