import { InputError } from '../util/errors.js';

/** SageMaker's pattern for model, endpoint, endpoint-config and job names (at most 63 characters). */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** The longest name SageMaker accepts. */
export const MAX_NAME_LENGTH = 63;

/**
 * A name SageMaker accepts, made from `base` and a millisecond timestamp as the SageMaker Python SDK's
 * `name_from_base` does: invalid characters become '-', the base is cut so the whole fits 63 characters.
 * @example generateName('my_model', new Date('2026-01-02T03:04:05.678Z')) === 'my-model-2026-01-02-03-04-05-678'
 */
export function generateName(base: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:T.]/g, '-')
    .replace(/Z$/, '');
  const clean =
    base
      .replace(/[^a-zA-Z0-9-]+/g, '-')
      .replace(/^-+/, '')
      .replace(/-+$/, '') || 'smkit';
  const room = MAX_NAME_LENGTH - stamp.length - 1;
  return `${clean.slice(0, room).replace(/-+$/, '')}-${stamp}`;
}

/** Refuses a name SageMaker would refuse, before any call; `what` names the flag (`--name`). */
export function checkName(name: string, what: string): string {
  if (!SAGEMAKER_NAME.test(name)) {
    throw new InputError(
      `${what} '${name}' is not a SageMaker name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
  return name;
}
