/**
 * Runs one k-means training job from a SageMaker directory layout, as the container's built-in path
 * does (config files -> channels -> algorithm -> model dir), and prints its peak RSS. Used by
 * bench/kmeans.ts when `smkit train` cannot run built-in algorithms in this checkout.
 * Usage: node dist/bench/kmeans-job.js BASE_DIR
 */
import { kmeans } from '../algorithms/kmeans/index.js';
import {
  SINGLE_HOST,
  readTrainingConfig,
  readTrainingSettings,
  resolvePaths,
} from '../src/contract/index.js';
import { createChannels } from '../src/train/channels.js';
import { createLogger } from '../src/util/log.js';

const base = process.argv[2];
if (!base) throw new Error('usage: kmeans-job BASE_DIR');
const paths = resolvePaths(base);
const config = await readTrainingConfig(paths);
const log = createLogger(40);
const settings = readTrainingSettings({});
const resourceConfig = config.resourceConfig ?? SINGLE_HOST;
await kmeans.train({
  hyperparameters: kmeans.hyperparameters.parse(config.hyperparameters),
  paths,
  settings,
  channels: createChannels({ paths, inputDataConfig: config.inputDataConfig ?? {}, settings, log }),
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
process.stdout.write(`#smkit_peak_rss_mb=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
