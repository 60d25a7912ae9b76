/**
 * The container's entry point (`docker run IMAGE train|serve`, as SageMaker runs it): smkit's
 * training runner and server with one more algorithm (zscore) and one more model kind (linear.json).
 * Nothing is registered globally: the lists are passed in.
 */
import { builtinAlgorithms } from 'smkit/algorithms';
import {
  createApp,
  createBuiltinModelKind,
  createLogger,
  defaultModelKinds,
  loadServingModel,
  readServingSettings,
  resolvePaths,
  runServer,
} from 'smkit';
import { runTrainingJob } from 'smkit/train';
import { linearKind } from './linear-kind.js';
import { zscore } from './zscore.js';

const algorithms = [...builtinAlgorithms, zscore];
const command = process.argv[2];

if (command === 'train') {
  process.exit(await runTrainingJob({ env: process.env, algorithms }));
} else if (command === 'serve') {
  const settings = readServingSettings(process.env);
  const log = createLogger(settings.logLevel);
  // linear.json first, then smkit's kinds with the built-in kind that knows zscore.
  const builtin = createBuiltinModelKind(algorithms);
  const kinds = [
    linearKind,
    ...defaultModelKinds.map((kind) => (kind.name === builtin.name ? builtin : kind)),
  ];
  const modelDir = resolvePaths(settings.baseDir).model;
  await runServer({
    port: settings.port,
    workers: settings.workers,
    log,
    createApp: () =>
      createApp({ loadHandler: () => loadServingModel(modelDir, { settings, log, kinds }), settings, log }),
  });
} else {
  process.stderr.write(`usage: entry.ts train|serve (got '${command ?? ''}')\n`);
  process.exit(2);
}
