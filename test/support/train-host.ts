/**
 * One training host as a separate process, for several-instance tests before the `smkit train`
 * runner is wired in: reads the job tree under argv[2] (config files and File-mode channels) with
 * the real config readers and channel readers, runs the built-in algorithm argv[3], prints metric
 * lines on stdout, and exits 1 with the message on stderr on failure.
 * Usage: node --import tsx test/support/train-host.ts JOB_DIR ALGORITHM
 */
import { pino } from 'pino';
import '../../algorithms/index.js';
import { findAlgorithm } from '../../algorithms/registry.js';
import { readTrainingConfig, readTrainingSettings, resolvePaths } from '../../src/contract/index.js';
import { createChannels } from '../../src/train/channels.js';
import { errorMessage } from '../../src/util/errors.js';

const [base = '', name = ''] = process.argv.slice(2);
try {
  const paths = resolvePaths(base);
  const config = await readTrainingConfig(paths);
  const settings = readTrainingSettings({ SMKIT_HOST_WAIT_SECONDS: '30' });
  const algorithm = await findAlgorithm(name);
  if (!algorithm) throw new Error(`no algorithm ${name}`);
  const log = pino({ level: 'silent' });
  const { resourceConfig } = config;
  await algorithm.train({
    hyperparameters: algorithm.hyperparameters.parse(config.hyperparameters),
    paths,
    settings,
    channels: createChannels({ paths, inputDataConfig: config.inputDataConfig, settings, log }),
    cluster: {
      current: resourceConfig.current_host,
      hosts: resourceConfig.hosts,
      leader: resourceConfig.hosts[0]!,
      isLeader: resourceConfig.current_host === resourceConfig.hosts[0],
      resourceConfig,
    },
    metrics: { line: (text) => process.stdout.write(`${text}\n`) },
    log,
    signal: new AbortController().signal,
    checkpointDir: paths.checkpoints,
  });
} catch (error) {
  process.stderr.write(`${errorMessage(error)}\n`);
  process.exitCode = 1;
}
