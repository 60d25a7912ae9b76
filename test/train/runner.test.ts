import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createJobTree, readFailure, runJob } from './job-tree.js';
import { tarGz } from './tar-bytes.js';

const WRITE_MODEL = "require('node:fs').writeFileSync(process.env.SM_MODEL_DIR + '/model.json', '{}');\n";

describe('choosing what to train', () => {
  test('with neither a script nor an algorithm, the failure says how to choose', async () => {
    const paths = await createJobTree({ hyperparameters: { k: '3' } });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^nothing to train: set the hyperparameter smkit_algorithm \(or the image env SMKIT_ALGORITHM\) to a built-in algorithm .*sagemaker_program/,
    );
  });

  test('an unknown algorithm is named with the registered ones', async () => {
    const paths = await createJobTree({ hyperparameters: { smkit_algorithm: 'kmeens' } });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^unknown algorithm 'kmeens' \(smkit_algorithm \/ SMKIT_ALGORITHM\)/,
    );
  });

  test('SMKIT_ALGORITHM is used when no hyperparameter names one', async () => {
    const paths = await createJobTree({});
    expect(await runJob(paths, { SMKIT_ALGORITHM: 'nope' })).toBe(1);
    expect(await readFailure(paths)).toMatch(/^unknown algorithm 'nope'/);
  });
});

describe('bad configuration', () => {
  test('a missing input/config dir fails naming it', async () => {
    const paths = await createJobTree({});
    await rm(paths.inputConfig, { recursive: true });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toMatch(
      new RegExp(`^${paths.inputConfig} does not exist: .*set SAGEMAKER_BASE_DIR to the job tree`),
    );
  });

  test('a malformed hyperparameters.json fails naming the file', async () => {
    const paths = await createJobTree({});
    await writeFile(paths.hyperparameters, '{"k": "3",');
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toMatch(new RegExp(`^${paths.hyperparameters} is not valid JSON`));
  });

  test('a resourceconfig.json whose current host is not among the hosts fails naming the file', async () => {
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"' },
      resourceConfig: { current_host: 'algo-3', hosts: ['algo-1', 'algo-2'] },
      code: { 'train.js': WRITE_MODEL },
    });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `${paths.resourceConfig} is invalid: (root): current_host must be one of hosts\n`,
    );
    expect(await readdir(paths.model).catch(() => [])).toEqual([]);
  });

  test('a bad SMKIT_HOST_WAIT_SECONDS ends in a failure file naming the variable', async () => {
    const paths = await createJobTree({});
    expect(await runJob(paths, { SMKIT_HOST_WAIT_SECONDS: 'soon' })).toBe(1);
    expect(await readFailure(paths)).toMatch(/SMKIT_HOST_WAIT_SECONDS must be a number/);
  });
});

describe('several hosts', () => {
  test('a peer whose name never resolves fails naming the host after the wait', async () => {
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"' },
      resourceConfig: { current_host: 'algo-1', hosts: ['algo-1', 'algo-2.invalid'] },
      code: { 'train.js': WRITE_MODEL },
    });
    expect(await runJob(paths, { SMKIT_HOST_WAIT_SECONDS: '0.5' })).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^host name algo-2.invalid \(ENOTFOUND\) did not resolve within 0.5 s/,
    );
    expect(await readdir(paths.model).catch(() => [])).toEqual([]);
  });

  test('peers given in SMKIT_HOST_ADDRESSES need no DNS: names that never resolve do not hold the job', async () => {
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"' },
      resourceConfig: { current_host: 'algo-1', hosts: ['algo-1', 'algo-2.invalid'] },
      code: { 'train.js': WRITE_MODEL },
    });
    const env = {
      SMKIT_HOST_WAIT_SECONDS: '0.5',
      SMKIT_HOST_ADDRESSES: 'algo-1=127.0.0.2,algo-2.invalid=127.0.0.3',
    };
    expect(await runJob(paths, env)).toBe(0);
    expect(await readdir(paths.model)).toEqual(['model.json']);
  });

  test('a bad SMKIT_HOST_ADDRESSES ends in a failure file naming the variable and the format', async () => {
    const paths = await createJobTree({});
    expect(await runJob(paths, { SMKIT_HOST_ADDRESSES: 'algo-1=127.0.0.2,algo-2=somewhere' })).toBe(1);
    expect(await readFailure(paths)).toBe(
      "SMKIT_HOST_ADDRESSES='algo-1=127.0.0.2,algo-2=somewhere' is invalid: 'somewhere' (host algo-2) is not an IPv4 or IPv6 address; expected HOST=IP pairs separated by commas, as in algo-1=127.0.0.2,algo-2=127.0.0.3\n",
    );
  });

  test('peers that resolve let the script start, with the leader and hosts in its env', async () => {
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"' },
      resourceConfig: { current_host: 'localhost', hosts: ['127.0.0.1', 'localhost'] },
      code: {
        'train.js':
          "const e = process.env;\nrequire('node:fs').writeFileSync(e.SM_MODEL_DIR + '/hosts.json', JSON.stringify([e.SM_HOSTS, e.SM_CURRENT_HOST, e.SM_MASTER_HOSTNAME, e.SM_IS_MASTER]));\n",
      },
    });
    expect(await runJob(paths, { SMKIT_HOST_WAIT_SECONDS: '5' })).toBe(0);
    expect(JSON.parse(await readFile(path.join(paths.model, 'hosts.json'), 'utf8'))).toEqual([
      '["127.0.0.1","localhost"]',
      'localhost',
      '127.0.0.1',
      'false',
    ]);
  });
});

describe('checkpoints', () => {
  test('checkpointconfig LocalPath is created and passed as SM_CHECKPOINT_DIR', async () => {
    const paths = await createJobTree({
      hyperparameters: { sagemaker_program: '"train.js"' },
      checkpointConfig: { LocalPath: '/opt/ml/checkpoints/run-1', S3Uri: 's3://bucket/ckpt' },
      code: {
        'train.js':
          "const fs = require('node:fs');\nfs.writeFileSync(process.env.SM_MODEL_DIR + '/dir', process.env.SM_CHECKPOINT_DIR);\nfs.writeFileSync(process.env.SM_CHECKPOINT_DIR + '/c', 'x');\n",
      },
    });
    expect(await runJob(paths)).toBe(0);
    const dir = path.join(paths.base, 'checkpoints/run-1');
    expect(await readFile(path.join(paths.model, 'dir'), 'utf8')).toBe(dir);
    expect(await readFile(path.join(dir, 'c'), 'utf8')).toBe('x');
  });
});

describe('sagemaker_submit_directory', () => {
  test('a local sourcedir.tar.gz is extracted into the empty code dir', async () => {
    const paths = await createJobTree({});
    const archive = path.join(paths.base, 'sourcedir.tar.gz');
    await writeFile(
      archive,
      tarGz([
        { name: 'lib/', type: '5' },
        { name: 'lib/model.js', body: 'module.exports = { weights: [1, 2] };\n' },
        {
          name: 'train.js',
          body: "const { weights } = require('./lib/model.js');\nrequire('node:fs').writeFileSync(process.env.SM_MODEL_DIR + '/model.json', JSON.stringify(weights));\n",
        },
      ]),
    );
    await writeFile(
      paths.hyperparameters,
      JSON.stringify({
        sagemaker_program: '"train.js"',
        sagemaker_submit_directory: JSON.stringify(archive),
      }),
    );
    expect(await runJob(paths)).toBe(0);
    expect(await readFile(path.join(paths.model, 'model.json'), 'utf8')).toBe('[1,2]');
    expect((await readdir(paths.code)).sort()).toEqual(['lib', 'train.js']);
  });

  test('a malicious tarball fails naming the member; nothing is run or written', async () => {
    const paths = await createJobTree({});
    const archive = path.join(paths.base, 'sourcedir.tar.gz');
    await writeFile(
      archive,
      tarGz([
        { name: 'train.js', body: WRITE_MODEL },
        { name: '../../evil.js', body: 'x' },
      ]),
    );
    await writeFile(
      paths.hyperparameters,
      JSON.stringify({ sagemaker_program: 'train.js', sagemaker_submit_directory: archive }),
    );
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toBe(
      `refusing to extract ${archive}: member '../../evil.js' contains '..'\n`,
    );
    expect(await readdir(paths.model)).toEqual([]);
    expect(await readdir(paths.code).catch(() => [])).toEqual([]);
  });

  test('a directory is copied into the code dir', async () => {
    const paths = await createJobTree({});
    const source = path.join(paths.base, 'src');
    await mkdir(source);
    await writeFile(path.join(source, 'train.js'), WRITE_MODEL);
    await writeFile(
      paths.hyperparameters,
      JSON.stringify({ sagemaker_program: 'train.js', sagemaker_submit_directory: source }),
    );
    expect(await runJob(paths)).toBe(0);
    expect(await readdir(paths.model)).toEqual(['model.json']);
    expect(await readdir(paths.code)).toEqual(['train.js']);
  });

  test('code already in the code dir is kept and run', async () => {
    const paths = await createJobTree({
      hyperparameters: {
        sagemaker_program: 'train.js',
        sagemaker_submit_directory: '/nonexistent/src.tar.gz',
      },
      code: { 'train.js': WRITE_MODEL },
    });
    expect(await runJob(paths)).toBe(0);
    expect(await readdir(paths.model)).toEqual(['model.json']);
  });

  test('a submit directory that does not exist fails naming it', async () => {
    const paths = await createJobTree({
      hyperparameters: {
        sagemaker_program: 'train.js',
        sagemaker_submit_directory: '/nonexistent/src.tar.gz',
      },
    });
    expect(await runJob(paths)).toBe(1);
    expect(await readFailure(paths)).toMatch(
      /^sagemaker_submit_directory '\/nonexistent\/src.tar.gz' does not exist/,
    );
  });
});
