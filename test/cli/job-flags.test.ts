import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  addTrainingJobFlags,
  addTransformFlags,
  dataProcessingFromFlags,
  parseChannel,
  parseKeyValues,
  parseMetricDefinitions,
  type TransformFlags,
} from '../../src/cli/job-flags.js';

describe('job flags shared by local train and train-job', () => {
  it('parses a channel with every option, in any case', () => {
    expect(
      parseChannel(
        'train=data/x,mode=pipe,content-type=text/csv;label_size=0,distribution=ShardedByS3Key,wrapper=RecordIO,compression=gzip',
      ),
    ).toEqual({
      name: 'train',
      source: 'data/x',
      mode: 'Pipe',
      contentType: 'text/csv;label_size=0',
      distribution: 'ShardedByS3Key',
      wrapper: 'RecordIO',
      compression: 'Gzip',
    });
  });

  it.each([
    [
      'train=d,mode=Stream',
      "--channel train=d,mode=Stream: mode must be one of File, Pipe, FastFile (got 'Stream')",
    ],
    [
      'train=d,compression=Gzip',
      '--channel train=d,compression=Gzip: compression=Gzip works only with mode=Pipe',
    ],
    ['bad name=d', "--channel bad name=d: channel names match [A-Za-z0-9.-_]{1,64} (got 'bad name')"],
    ['train=d,colour=red', "--channel train=d,colour=red: unknown option 'colour'"],
    ['train=d,shuffle=x', "--channel train=d,shuffle=x: shuffle takes a seed, an integer >= 0 (got 'x')"],
    ['train=', '--channel train=: a channel needs a directory or an s3:// URI'],
  ])('rejects %s', (spec, message) => {
    expect(() => parseChannel(spec)).toThrow(message);
  });

  it('reads an S3 source and a shuffle seed, as train-job takes them', () => {
    expect(parseChannel('validation=s3://bucket/val/,shuffle=42')).toEqual({
      name: 'validation',
      source: 's3://bucket/val/',
      mode: 'File',
      distribution: 'FullyReplicated',
      wrapper: 'None',
      compression: 'None',
      shuffleSeed: 42,
    });
  });

  it('keeps commas inside JSON lists and quotes', () => {
    expect(parseKeyValues('k=3,eval_metrics=["msd","ssd"],name="a,b"', 'x')).toEqual({
      k: '3',
      eval_metrics: '["msd","ssd"]',
      name: '"a,b"',
    });
  });

  it('splits metric definitions on ; only where a new name= starts', () => {
    expect(parseMetricDefinitions('train:msd=train msd <loss>=(\\S+);odd=a;b=(\\d+)')).toEqual([
      { Name: 'train:msd', Regex: 'train msd <loss>=(\\S+)' },
      { Name: 'odd', Regex: 'a' },
      { Name: 'b', Regex: '(\\d+)' },
    ]);
    expect(() => parseMetricDefinitions('x=(')).toThrow("--metric-definitions: the regex of 'x' is invalid");
  });
});

/** Parses argv with a throwaway command, as a subcommand would; errors come back as their message. */
function parse(add: (command: Command) => Command, argv: string[]): Record<string, unknown> {
  const command = add(new Command('x').exitOverride().configureOutput({ writeErr: () => {} }));
  command.parse(argv, { from: 'user' });
  return command.opts();
}

describe('the flags local and AWS commands share', () => {
  it('reads a training job: repeatable channels, hyperparameters, runtime, metrics, job name', () => {
    expect(
      parse(addTrainingJobFlags, [
        '--entry-point',
        'train.js',
        '--channel',
        'train=s3://b/train',
        '--channel',
        'test=data/test,mode=Pipe',
        '--hyperparameters',
        'k=3',
        '--max-runtime',
        '3600',
        '--metric-definitions',
        'loss=loss: (\\S+)',
        '--job-name',
        'j',
      ]),
    ).toEqual({
      entryPoint: 'train.js',
      channel: ['train=s3://b/train', 'test=data/test,mode=Pipe'],
      hyperparameters: 'k=3',
      maxRuntime: 3600,
      metricDefinitions: 'loss=loss: (\\S+)',
      jobName: 'j',
    });
    expect(() => parse(addTrainingJobFlags, ['--max-runtime', '0'])).toThrow('expected a number >= 1');
  });

  it("reads a transform with SageMaker's defaults and refuses values the API does not have", () => {
    expect(parse(addTransformFlags, ['--content-type', 'text/csv', '--split-type', 'TFRecord'])).toEqual({
      contentType: 'text/csv',
      accept: 'application/json',
      splitType: 'TFRecord',
      assembleWith: 'None',
      joinSource: 'None',
    });
    expect(() =>
      parse(addTransformFlags, ['--content-type', 'text/csv', '--strategy', 'MULTI_RECORD']),
    ).toThrow('Allowed choices are MultiRecord, SingleRecord');
    expect(() => parse(addTransformFlags, [])).toThrow(
      "required option '--content-type <type>' not specified",
    );
  });

  it('builds DataProcessing from the filter flags, naming a filter that is too long', () => {
    const flags = parse(addTransformFlags, [
      '--content-type',
      'text/csv',
      '--input-filter',
      '$[1:]',
      '--join-source',
      'Input',
    ]) as unknown as TransformFlags;
    expect(dataProcessingFromFlags(flags)).toEqual({ InputFilter: '$[1:]', JoinSource: 'Input' });
    expect(() => dataProcessingFromFlags({ ...flags, outputFilter: `$${'.x'.repeat(40)}` })).toThrow(
      '--output-filter: JSONPath filters are at most 63 characters, as in CreateTransformJob',
    );
  });
});
