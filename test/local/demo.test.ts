import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterAgreement, packageRoot, splitLabelledCsv } from '../../src/local/demo.js';

describe('demo data', () => {
  it('drops the header row and the leading label column', () => {
    expect(splitLabelledCsv('species,a,b\r\nsetosa,1,2\nvirginica,3,4\n\n')).toEqual({
      features: ['1,2', '3,4'],
      labels: ['setosa', 'virginica'],
    });
  });

  it('names each cluster by its majority label and counts the rows that agree', () => {
    const { majority, agree } = clusterAgreement([1, 1, 0, 1, 0], ['a', 'a', 'b', 'b', 'b']);
    expect([...majority]).toEqual([
      [0, 'b'],
      [1, 'a'],
    ]);
    expect(agree).toBe(4);
  });

  it('finds the package root from a module inside it', () => {
    expect(packageRoot(path.resolve('src/local'))).toBe(path.resolve('.'));
  });
});

describe('smkit demo (npm start), end to end', () => {
  it('trains k-means on iris with smkit local train, serves it and prints species next to clusters', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.resolve('test/train/fixtures/smkit-cli.ts'), 'demo'],
        (error, out) => resolve({ code: error ? 1 : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Training Completed in [\d.]+ s \(train:msd [\d.]+, test:msd [\d.]+\)/m);
    expect(stdout).toMatch(/^Iris-setosa {6}5\.4,3\.9,1\.3,0\.4 {3}\d {8}\d\.\d{3}$/m);
    const agree = Number(/(\d+) of 38 test rows fall in their species' cluster/.exec(stdout)?.[1]);
    // SageMaker's own k-means puts 33 of the 38 rows with their species (builtin-algorithms.md, section 5).
    expect(agree).toBeGreaterThanOrEqual(30);
  }, 180_000);
});
