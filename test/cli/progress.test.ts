import { describe, expect, test } from 'vitest';
import {
  createStatusLine,
  renderProgressBar,
  renderTrainingProgress,
  renderTransformProgress,
} from '../../src/cli/progress.js';

describe('renderProgressBar', () => {
  test.each([
    [0, '[--------]   0%'],
    [0.5, '[####----]  50%'],
    [0.999, '[#######-]  99%'],
    [1, '[########] 100%'],
    [1.5, '[########] 100%'],
    [-1, '[--------]   0%'],
    [Number.NaN, '[--------]   0%'],
  ])('%s', (fraction, bar) => {
    expect(renderProgressBar(fraction, 8)).toBe(bar);
  });
});

describe('renderTrainingProgress', () => {
  test('one host: its share and the time', () => {
    expect(renderTrainingProgress(['algo-1'], { 'algo-1': 33.333 }, 12.7)).toBe(
      'training [#######-----------------]  33% 12 s',
    );
  });

  test('several hosts: the mean, counting a silent host as 0, and each host', () => {
    expect(renderTrainingProgress(['algo-1', 'algo-2'], { 'algo-1': 100 }, 3)).toBe(
      'training [############------------]  50% (algo-1 100%, algo-2 0%) 3 s',
    );
  });
});

test('renderTransformProgress counts finished files and the share of the current one', () => {
  expect(renderTransformProgress({ file: 'b.csv', filesDone: 1, files: 2, batches: 1, fileBatches: 2 })).toBe(
    'transform [##################------]  75% file 2/2 b.csv: 1/2 mini-batches',
  );
});

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (text: string) => written.push(text) }, written };
}

describe('createStatusLine', () => {
  test('on a terminal: the line redraws in place, logs go above it, done clears it', () => {
    const { stream, written } = terminal(true);
    const status = createStatusLine(stream, true, 0);
    status.log('first');
    status.show('bar 1');
    status.show('bar 1');
    status.log('second');
    status.show('bar 2');
    status.done();
    expect(written.join('')).toBe('first\n\r\u001b[Kbar 1\r\u001b[Ksecond\nbar 1\r\u001b[Kbar 2\r\u001b[K');
  });

  test('disabled (not a terminal, or --json): only log lines, no control characters', () => {
    const { stream, written } = terminal(false);
    const status = createStatusLine(stream, false, 0);
    status.show('bar 1');
    status.log('line');
    status.done();
    expect(written).toEqual(['line\n']);
  });
});
