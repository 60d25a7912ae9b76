import { describe, expect, it } from 'vitest';
import { parseChannel, parseKeyValues, parseMetricDefinitions } from '../../src/cli/job-flags.js';

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
