import { describe, expect, it } from 'vitest';
import {
  ChannelSpecSchema,
  InputDataConfigSchema,
  isS3Uri,
  MetricDefinitionSchema,
  MetricDefinitionsSchema,
  ResourceLimitsSchema,
} from '../../src/contract/index.js';

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe('ChannelSpecSchema', () => {
  it("fills SageMaker's defaults: File mode, FullyReplicated, no wrapper, no compression", () => {
    expect(ChannelSpecSchema.parse({ name: 'train', source: 's3://bucket/train' })).toEqual({
      name: 'train',
      source: 's3://bucket/train',
      mode: 'File',
      distribution: 'FullyReplicated',
      wrapper: 'None',
      compression: 'None',
    });
  });

  it('refuses what CreateTrainingJob refuses, saying which rule', () => {
    expect(messages(ChannelSpecSchema.safeParse({ name: 'bad name', source: 'd' }))).toEqual([
      'channel names match [A-Za-z0-9.-_]{1,64}',
    ]);
    expect(messages(ChannelSpecSchema.safeParse({ name: 'x'.repeat(65), source: 'd' }))).toEqual([
      'channel names match [A-Za-z0-9.-_]{1,64}',
    ]);
    expect(
      messages(ChannelSpecSchema.safeParse({ name: 'train', source: 'd', compression: 'Gzip' })),
    ).toEqual([
      'compression=Gzip works only with mode=Pipe, as on SageMaker; decompress the files or add mode=Pipe',
    ]);
    expect(ChannelSpecSchema.safeParse({ name: 'train', source: 'd', mode: 'Stream' }).success).toBe(false);
    expect(ChannelSpecSchema.safeParse({ name: 'train', source: 'd', shuffleSeed: -1 }).success).toBe(false);
  });

  it('shares its enums with inputdataconfig.json', () => {
    const channel = ChannelSpecSchema.parse({ name: 'train', source: 'd', mode: 'FastFile' });
    expect(
      InputDataConfigSchema.parse({ train: { TrainingInputMode: channel.mode } }).train!.TrainingInputMode,
    ).toBe('FastFile');
  });

  it('tells S3 URIs from directories', () => {
    expect(isS3Uri('s3://bucket/prefix')).toBe(true);
    expect(isS3Uri('s3://bucket')).toBe(true);
    expect(isS3Uri('data/s3://x')).toBe(false);
    expect(isS3Uri('s3:///x')).toBe(false);
  });
});

describe('MetricDefinitionSchema', () => {
  it('accepts a name and a regex that compiles', () => {
    expect(MetricDefinitionSchema.parse({ Name: 'train:loss', Regex: 'loss=(\\S+)' })).toEqual({
      Name: 'train:loss',
      Regex: 'loss=(\\S+)',
    });
  });

  it('refuses a regex that does not compile, an empty or overlong one, and more than 40 definitions', () => {
    expect(messages(MetricDefinitionSchema.safeParse({ Name: 'x', Regex: '(' }))[0]).toMatch(/^invalid: /);
    expect(messages(MetricDefinitionSchema.safeParse({ Name: 'x', Regex: '' }))).toEqual(['empty']);
    expect(messages(MetricDefinitionSchema.safeParse({ Name: 'x', Regex: 'a'.repeat(501) }))).toEqual([
      'longer than 500 characters',
    ]);
    expect(MetricDefinitionSchema.safeParse({ Name: '', Regex: 'a' }).success).toBe(false);
    const many = Array.from({ length: 41 }, (_, i) => ({ Name: `m${i}`, Regex: 'a' }));
    expect(MetricDefinitionsSchema.safeParse(many).success).toBe(false);
    expect(MetricDefinitionsSchema.safeParse(many.slice(0, 40)).success).toBe(true);
  });
});

describe('ResourceLimitsSchema', () => {
  it('defaults to one instance and allows runtimes up to 28 days', () => {
    expect(ResourceLimitsSchema.parse({})).toEqual({ instanceCount: 1 });
    expect(ResourceLimitsSchema.safeParse({ instanceCount: 0 }).success).toBe(false);
    expect(ResourceLimitsSchema.safeParse({ maxRuntimeSeconds: 28 * 24 * 3600 }).success).toBe(true);
    expect(ResourceLimitsSchema.safeParse({ maxRuntimeSeconds: 28 * 24 * 3600 + 1 }).success).toBe(false);
  });
});
