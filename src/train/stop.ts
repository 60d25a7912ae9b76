import type { Logger } from '../util/log.js';

/** SageMaker's window between SIGTERM and SIGKILL is 120 s; leave a margin to report back. */
export const STOP_GRACE_SECONDS = 110;

/** A stop request (SIGTERM or SIGINT) as an AbortSignal. */
export interface StopListener {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Turns SIGTERM (StopTrainingJob, MaxRuntimeInSeconds, spot interruption) and SIGINT into an aborted
 * signal whose reason is the signal name. While listening, the signals no longer kill the process.
 */
export function listenForStop(log: Logger): StopListener {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    log.warn({ signal: name }, 'stop requested');
    if (!controller.signal.aborted) controller.abort(name);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
