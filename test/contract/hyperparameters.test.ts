import { describe, expect, test } from 'vitest';
import { decodeHyperparameter, decodeHyperparameters } from '../../src/contract/hyperparameters.js';

describe('decodeHyperparameter', () => {
  test.each([
    ['plain string', 'abc', 'abc'],
    ['JSON-encoded string (script mode)', '"train.js"', 'train.js'],
    ['JSON-encoded string with quotes', '"\\"abc\\""', '"abc"'],
    ['Python True', 'True', true],
    ['Python False', 'False', false],
    ['JSON true', 'true', true],
    ['JSON false', 'false', false],
    ['integer', '3', 3],
    ['float', '0.0001', 0.0001],
    ['JSON list', '["msd","ssd"]', ['msd', 'ssd']],
    ['bare list text', 'msd,ssd', 'msd,ssd'],
    ['raw text with braces', '{not json', '{not json'],
    ['empty string', '', ''],
    ['auto', 'auto', 'auto'],
  ])('%s', (_name, raw, expected) => {
    expect(decodeHyperparameter(raw)).toEqual(expected);
  });

  test('decodes every value of a file as the Python SDK writes it', () => {
    expect(
      decodeHyperparameters({
        sagemaker_program: '"train.js"',
        sagemaker_submit_directory: '"s3://bucket/code/sourcedir.tar.gz"',
        epochs: '10',
        'learning-rate': '0.1',
        use_gpu: 'False',
      }),
    ).toEqual({
      sagemaker_program: 'train.js',
      sagemaker_submit_directory: 's3://bucket/code/sourcedir.tar.gz',
      epochs: 10,
      'learning-rate': 0.1,
      use_gpu: false,
    });
  });
});
