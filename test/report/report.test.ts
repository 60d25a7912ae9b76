import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { barChart, lineChart, renderReport, scatterPlot, writeReport } from '../../src/report/index.js';

describe('training report', () => {
  test('a line chart draws one polyline per series through every point', () => {
    const svg = lineChart(
      [
        {
          name: 'train',
          points: [
            [1, 3],
            [2, 2],
            [3, 1.5],
          ],
        },
        {
          name: 'test',
          points: [
            [1, 4],
            [2, 3],
            [3, 2.5],
          ],
        },
      ],
      { title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'msd' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg).toContain('>Loss per epoch</text>');
    expect(svg).toContain('>train</text>');
  });

  test('a bar chart draws one bar per value, taller bars for larger values', () => {
    const svg = barChart(
      [
        { label: '0', value: 10 },
        { label: '1', value: 40 },
      ],
      { title: 'Cluster sizes' },
    );
    const heights = [...svg.matchAll(/class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(2);
    expect(heights[1]! / heights[0]!).toBeCloseTo(4, 1);
  });

  test('a scatter plot colors points by group and skips non-finite points', () => {
    const svg = scatterPlot(
      [
        { x: 0, y: 0, group: 0 },
        { x: 1, y: 1, group: 1 },
        { x: 2, y: Number.NaN, group: 1 },
      ],
      { title: 'Sample', groupNames: ['setosa', 'versicolor'] },
    );
    const fills = [...svg.matchAll(/class="point"[^>]* fill="(#[0-9a-fA-F]+)"/g)].map((m) => m[1]);
    expect(fills).toHaveLength(2);
    expect(fills[0]).not.toBe(fills[1]);
    expect(svg).toContain('>versicolor</text>');
  });

  test('the page is self-contained: no scripts, no external URLs, text escaped', async () => {
    const html = renderReport({
      title: 'PCA <job>',
      summary: { records: 150, feature_dim: 4 },
      sections: [
        {
          heading: 'Explained variance',
          paragraphs: ['a & b'],
          chart: barChart([{ label: '1', value: 2 }], { title: 'scree' }),
          table: { columns: ['component', 'variance'], rows: [[1, 0.123456789]] },
        },
      ],
      generatedAt: '2026-01-01T00:00:00Z',
    });
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<title>PCA &lt;job&gt;</title>');
    expect(html).toContain('<p>a &amp; b</p>');
    expect(html).toContain('<td>0.123457</td>');
    expect(html).not.toMatch(/<script/i);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/(https?:)?\/\/[a-z]/i);

    const dir = path.join(os.tmpdir(), `smkit-report-${process.pid}`);
    const file = await writeReport(dir, { title: 't', sections: [] });
    expect(file).toBe(path.join(dir, 'report.html'));
    expect(await readFile(file, 'utf8')).toContain('<h1>t</h1>');
    await rm(dir, { recursive: true, force: true });
  });
});
