import { describe, expect, it } from 'vitest';
import {
  encodeBuiltInHyperparameters,
  encodeScriptModeHyperparameters,
} from '../../src/local/hyperparameters.js';
import { shardFiles } from '../../src/local/job-tree.js';
import { parseChannel, parseKeyValues, parseMetricDefinitions } from '../../src/local/options.js';

describe('command-line options', () => {
  it('parses a channel with every option, in any case', () => {
    expect(
      parseChannel(
        'train=data/x,mode=pipe,content-type=text/csv;label_size=0,distribution=ShardedByS3Key,wrapper=RecordIO,compression=gzip',
      ),
    ).toEqual({
      name: 'train',
      dir: 'data/x',
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
  ])('rejects %s', (spec, message) => {
    expect(() => parseChannel(spec)).toThrow(message);
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

describe('hyperparameter encoding', () => {
  it('JSON-encodes every value for script mode, typing command-line strings', () => {
    expect(
      encodeScriptModeHyperparameters(
        { lr: '0.1', name: 'abc', on: 'True', list: '[1,2]', fromFile: 'x', n: 3 },
        new Set(['lr', 'name', 'on', 'list']),
      ),
    ).toEqual({ lr: '0.1', name: '"abc"', on: 'true', list: '[1,2]', fromFile: '"x"', n: '3' });
  });

  it("uses Python's str() for built-in algorithms", () => {
    expect(
      encodeBuiltInHyperparameters({ k: 3, force_dense: true, eval_metrics: ['msd', 'ssd'], m: 'x' }),
    ).toEqual({
      k: '3',
      force_dense: 'True',
      eval_metrics: '["msd","ssd"]',
      m: 'x',
    });
  });
});

describe('shardFiles', () => {
  it('gives each host every n-th object for ShardedByS3Key and all of them otherwise', () => {
    const files = ['a', 'b', 'c', 'd', 'e'];
    expect([0, 1].map((i) => shardFiles(files, 'ShardedByS3Key', i, 2))).toEqual([
      ['a', 'c', 'e'],
      ['b', 'd'],
    ]);
    expect(shardFiles(files, 'FullyReplicated', 1, 2)).toEqual(files);
  });
});
