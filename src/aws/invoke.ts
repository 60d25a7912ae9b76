/** `smkit invoke`: one sagemaker-runtime InvokeEndpoint call, with the flags of `smkit local invoke`. */
import { InvokeEndpointCommand, type InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { decoders, encoders } from '../serve/codecs/index.js';
import { InputError } from '../util/errors.js';
import { checkName } from './names.js';
import type { AwsSession } from './session.js';

/** One invocation. */
export interface InvokeOptions {
  readonly endpointName: string;
  readonly contentType: string;
  readonly accept?: string;
  readonly body: Uint8Array;
  readonly customAttributes?: string;
  /** Multi-model endpoints: the archive to run (`model-a.tar.gz`). */
  readonly targetModel?: string;
  readonly targetVariant?: string;
  readonly inferenceId?: string;
}

/** What the endpoint answered. */
export interface InvokeResult {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly invokedVariant?: string;
  readonly customAttributes?: string;
}

function mediaType(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}

/**
 * The InvokeEndpoint request. Refuses, before any call, a Content-Type no smkit decoder reads and an
 * Accept no encoder writes (the model server would answer 415/406): the same lists the server uses.
 */
export function invokeRequest(options: InvokeOptions): InvokeEndpointCommandInput {
  checkName(options.endpointName, '--endpoint');
  if (!decoders.has(mediaType(options.contentType))) {
    throw new InputError(
      `--content-type ${options.contentType} has no decoder in smkit's model server; use one of ${[...decoders.keys()].join(', ')}`,
    );
  }
  if (
    options.accept &&
    options.accept !== '*/*' &&
    !options.accept.split(',').some((a) => encoders.has(mediaType(a)) || mediaType(a).endsWith('/*'))
  ) {
    throw new InputError(
      `--accept ${options.accept}: smkit's model server answers ${[...encoders.keys()].join(', ')}`,
    );
  }
  if (options.customAttributes && options.customAttributes.length > 1024) {
    throw new InputError('--custom-attributes is longer than the 1024 characters InvokeEndpoint allows');
  }
  if (options.body.length > 6 * 1024 * 1024) {
    throw new InputError(
      `the body is ${options.body.length} bytes: InvokeEndpoint takes at most 6 MB; use an async endpoint or a batch transform`,
    );
  }
  return {
    EndpointName: options.endpointName,
    ContentType: options.contentType,
    Body: options.body,
    ...(options.accept ? { Accept: options.accept } : {}),
    ...(options.customAttributes ? { CustomAttributes: options.customAttributes } : {}),
    ...(options.targetModel ? { TargetModel: options.targetModel } : {}),
    ...(options.targetVariant ? { TargetVariant: options.targetVariant } : {}),
    ...(options.inferenceId ? { InferenceId: options.inferenceId } : {}),
  };
}

/** Sends one InvokeEndpoint request and returns the answer's bytes and headers. */
export async function invoke(session: AwsSession, options: InvokeOptions): Promise<InvokeResult> {
  const answer = await session.call('sagemaker-runtime', new InvokeEndpointCommand(invokeRequest(options)));
  return {
    body: Buffer.from(answer.Body ?? new Uint8Array()),
    ...(answer.ContentType ? { contentType: answer.ContentType } : {}),
    ...(answer.InvokedProductionVariant ? { invokedVariant: answer.InvokedProductionVariant } : {}),
    ...(answer.CustomAttributes ? { customAttributes: answer.CustomAttributes } : {}),
  };
}
