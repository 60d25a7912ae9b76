// Placeholder until the `io` branch brings the channel readers; replaced by its version on merge.
import type { Channels } from '../../algorithms/types.js';
import type { InputDataConfig, SageMakerPaths, TrainingSettings } from '../contract/index.js';
import { SmkitError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** Options of {@link createChannels}. */
export interface CreateChannelsOptions {
  readonly paths: SageMakerPaths;
  readonly inputDataConfig: Readonly<InputDataConfig>;
  readonly settings: TrainingSettings;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/** The configured channels as record streams. */
export function createChannels(options: CreateChannelsOptions): Channels {
  const names = Object.keys(options.inputDataConfig).sort();
  return {
    names,
    has: (name) => names.includes(name),
    config: (name) => {
      const config = options.inputDataConfig[name];
      if (!config) throw new SmkitError(`no channel '${name}' in inputdataconfig.json`);
      return config;
    },
    open: () => {
      throw new SmkitError('channel readers are not available in this build');
    },
  };
}
