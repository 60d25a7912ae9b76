import { describe, expect, it } from 'vitest';
import {
  checkExecutionParameters,
  concurrencyWithinLimit,
  DataProcessingSchema,
  executionParametersFromWire,
  executionParametersToWire,
  parseBatchStrategy,
  SplitTypeSchema,
} from '../../src/contract/transform.js';

describe('batch transform execution parameters', () => {
  it('accepts what CreateTransformJob accepts, up to concurrency x payload = 100', () => {
    for (const [concurrency, payload] of [
      [1, 100],
      [100, 1],
      [4, 25],
      [7, 0],
    ] as const) {
      const parameters = {
        BatchStrategy: 'MultiRecord' as const,
        MaxConcurrentTransforms: concurrency,
        MaxPayloadInMB: payload,
      };
      expect(checkExecutionParameters(parameters)).toEqual(parameters);
    }
  });

  it.each([
    [
      { MaxConcurrentTransforms: 1, MaxPayloadInMB: 101 },
      'MaxPayloadInMB must be between 0 and 100 (got 101)',
    ],
    [{ MaxConcurrentTransforms: 1, MaxPayloadInMB: -1 }, 'MaxPayloadInMB must be between 0 and 100 (got -1)'],
    [
      { MaxConcurrentTransforms: 0, MaxPayloadInMB: 6 },
      'MaxConcurrentTransforms must be an integer >= 1 (got 0)',
    ],
    [{ MaxConcurrentTransforms: 1.5, MaxPayloadInMB: 6 }, 'MaxConcurrentTransforms must be an integer >= 1'],
    [
      { MaxConcurrentTransforms: 6, MaxPayloadInMB: 20 },
      'MaxConcurrentTransforms x MaxPayloadInMB must be <= 100 (got 6 x 20)',
    ],
  ])('refuses %j', (values, message) => {
    expect(() => checkExecutionParameters({ BatchStrategy: 'MultiRecord', ...values })).toThrow(message);
  });

  it('names where a bad payload came from', () => {
    expect(() =>
      checkExecutionParameters(
        { BatchStrategy: 'SingleRecord', MaxConcurrentTransforms: 1, MaxPayloadInMB: 200 },
        { MaxPayloadInMB: 'container' },
      ),
    ).toThrow('MaxPayloadInMB must be between 0 and 100 (got 200 from container)');
  });

  it('lowers concurrency to fit the payload, never below 1', () => {
    expect(concurrencyWithinLimit(8, 6)).toBe(8);
    expect(concurrencyWithinLimit(32, 6)).toBe(16);
    expect(concurrencyWithinLimit(4, 100)).toBe(1);
    expect(concurrencyWithinLimit(4, 0)).toBe(4);
  });
});

describe('the wire spelling of /execution-parameters and SAGEMAKER_BATCH_STRATEGY', () => {
  it('converts MultiRecord <-> MULTI_RECORD at the edge', () => {
    expect(
      executionParametersToWire({
        BatchStrategy: 'SingleRecord',
        MaxConcurrentTransforms: 2,
        MaxPayloadInMB: 6,
      }),
    ).toEqual({ MaxConcurrentTransforms: 2, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 6 });
    expect(
      executionParametersFromWire({
        MaxConcurrentTransforms: 4,
        BatchStrategy: 'MULTI_RECORD',
        MaxPayloadInMB: 6,
      }),
    ).toEqual({ BatchStrategy: 'MultiRecord', MaxConcurrentTransforms: 4, MaxPayloadInMB: 6 });
  });

  it('reads every spelling seen in the wild and leaves out what it cannot read', () => {
    for (const text of ['MultiRecord', 'MULTI_RECORD', 'multi_record', 'multirecord']) {
      expect(parseBatchStrategy(text)).toBe('MultiRecord');
    }
    expect(parseBatchStrategy('SINGLE_RECORD')).toBe('SingleRecord');
    expect(parseBatchStrategy('Batch')).toBeUndefined();
    expect(executionParametersFromWire({ BatchStrategy: 'x', MaxPayloadInMB: '6' })).toEqual({});
    expect(executionParametersFromWire('not an object')).toEqual({});
  });
});

describe('split types and data processing', () => {
  it("has SageMaker's four split types and JSONPath filters up to 63 characters", () => {
    expect(SplitTypeSchema.options).toEqual(['None', 'Line', 'RecordIO', 'TFRecord']);
    expect(DataProcessingSchema.parse({ InputFilter: '$[1:]' })).toEqual({
      InputFilter: '$[1:]',
      JoinSource: 'None',
    });
    expect(DataProcessingSchema.safeParse({ OutputFilter: `$${'x'.repeat(63)}` }).success).toBe(false);
    expect(DataProcessingSchema.safeParse({ JoinSource: 'Output' }).success).toBe(false);
  });
});
