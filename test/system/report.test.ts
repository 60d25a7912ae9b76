import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KMeansHyperparametersSchema } from '../../algorithms/kmeans/hyperparameters.js';
import { kmeans } from '../../algorithms/kmeans/index.js';
import { PcaHyperparametersSchema } from '../../algorithms/pca/hyperparameters.js';
import { pca } from '../../algorithms/pca/index.js';
import { scatterPlot, writeReport } from '../../src/report/index.js';
import { lowRankData } from '../helpers/sklearn.js';
import { arrayChannels, readLabelledCsv, trainContext } from '../support/train-context.js';

/** Debian's Chromium, installed by scripts/ci-install-browser.sh. */
const CHROMIUM = '/usr/bin/chromium';

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    execFileSync('bash', [path.join(import.meta.dirname, '../../scripts/ci-install-browser.sh')], {
      stdio: 'inherit',
    });
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
});

interface Rendered {
  svgs: number;
  shapes: number;
  requests: string[];
  /** Per-channel variance of the screenshot's pixels (0 for a blank page). */
  variance: number;
  /** Share of pixels that are not (near) white. */
  inked: number;
}

/** Runs in the page (a string: the DOM is not in this project's type libraries). */
const MEASURE_PIXELS = `(async (dataUrl) => {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let sum = 0, squares = 0, inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    const luma = (data[i] + data[i + 1] + data[i + 2]) / 3;
    sum += luma;
    squares += luma * luma;
    if (luma < 200) inked++;
  }
  const n = data.length / 4;
  return { variance: squares / n - (sum / n) ** 2, inked: inked / n };
})`;

/** Opens a report file in headless Chromium, screenshots it and measures what is drawn. */
async function render(file: string): Promise<Rendered> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);
  const svgs = await page.locator('svg.chart').count();
  const shapes = await page.locator('svg.chart rect.bar, svg.chart polyline, svg.chart circle').count();
  const png = await page.screenshot({ fullPage: true });
  await page.close();

  // Decode the PNG in a blank page's canvas (the report's CSP forbids loading it there).
  const canvas = await browser.newPage();
  const stats = (await canvas.evaluate(
    `${MEASURE_PIXELS}(${JSON.stringify(`data:image/png;base64,${png.toString('base64')}`)})`,
  )) as {
    variance: number;
    inked: number;
  };
  await canvas.close();
  return { svgs, shapes, requests, ...stats };
}

/** The page loaded nothing but itself, and its screenshot is a picture rather than a blank page. */
function expectSelfContainedAndDrawn(rendered: Rendered, file: string): void {
  expect(rendered.requests).toEqual([pathToFileURL(file).href]);
  expect(rendered.variance).toBeGreaterThan(100);
  expect(rendered.inked).toBeGreaterThan(0.005);
}

describe('training report in headless Chromium', () => {
  test('the PCA report of a real training job renders its scree chart', async () => {
    const job = trainContext(
      PcaHyperparametersSchema,
      { feature_dim: '12', mini_batch_size: '500', num_components: '6' },
      arrayChannels({ train: { values: lowRankData(3000, 12, 6, 0.5, 9), dim: 12 } }),
    );
    await pca.train(job.context);
    const file = path.join(job.context.outputDataDir, 'report.html');
    expect(readFileSync(file, 'utf8')).toContain('Explained variance');
    const rendered = await render(file);
    expect(rendered.svgs).toBe(2);
    expect(rendered.shapes).toBeGreaterThanOrEqual(6 + 1 + 6);
    expectSelfContainedAndDrawn(rendered, file);
  });

  test('the k-means report of a real iris job renders loss, cluster sizes and the colored projection', async () => {
    const iris = readLabelledCsv(
      path.join(import.meta.dirname, '../../examples/data/iris/iris_train.csv'),
      0,
    );
    const job = trainContext(
      KMeansHyperparametersSchema,
      { feature_dim: '4', k: '3', epochs: '3' },
      arrayChannels({ train: { values: iris.values, dim: iris.dim } }),
    );
    await kmeans.train(job.context);
    const file = path.join(job.context.outputDataDir, 'report.html');
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Loss per epoch');
    expect(html).toContain('Cluster sizes');
    const rendered = await render(file);
    expect(rendered.svgs).toBe(3);
    // 3 bars, the loss polyline and the 112 sampled points at least.
    expect(rendered.shapes).toBeGreaterThanOrEqual(3 + 1 + 112);
    expectSelfContainedAndDrawn(rendered, file);
  });

  test('a scatter plot colored by class renders, and a blank page would not pass', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'smkit-report-'));
    const points = Array.from({ length: 300 }, (_, i) => ({
      x: Math.cos(i) * (1 + (i % 3)),
      y: Math.sin(i) * (1 + (i % 3)),
      group: i % 3,
    }));
    const file = await writeReport(dir, {
      title: 'Scatter',
      sections: [{ heading: 'Sample', chart: scatterPlot(points, { title: 'By class' }) }],
    });
    const rendered = await render(file);
    expect(rendered.svgs).toBe(1);
    expect(rendered.shapes).toBe(300);
    expect(rendered.variance).toBeGreaterThan(100);

    const blank = await writeReport(path.join(dir, 'blank'), { title: '', sections: [] });
    expect((await render(blank)).variance).toBeLessThan(100);
  });
});
