/**
 * smkit as a library. The package root re-exports the serving API (`smkit/serve`), the data formats
 * (`smkit/io`) and the training settings; import the subpaths to load only what you use.
 *
 * ```ts
 * import { createApp, listen, readServingSettings, createLogger } from 'smkit';
 * const settings = readServingSettings(process.env);
 * const app = createApp({ handler: myHandler, settings, log: createLogger(settings.logLevel) });
 * await listen(app, { port: settings.port });
 * ```
 */
export { readTrainingSettings, resolvePaths } from './contract/index.js';
export * from './io/index.js';
export * from './serve/index.js';
