import { type Report, barChart, lineChart, scatterPlot } from '../../src/report/index.js';
import type { KMeansHyperparameters } from './hyperparameters.js';
import { assignJs } from './math/assign.js';
import { createRandom } from './math/random.js';
import { type RowReservoir, projectTo2d } from './math/sample.js';
import type { KMeansModel } from './model.js';

/** Everything the k-means training report shows. */
export interface KMeansReportInput {
  readonly hyperparameters: KMeansHyperparameters;
  readonly model: KMeansModel;
  readonly records: number;
  /** Streaming loss per epoch (mean squared distance to the streaming centers). */
  readonly epochLosses: readonly number[];
  /** Records (weight) behind each final cluster. */
  readonly clusterSizes: ArrayLike<number>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly sample: RowReservoir;
  readonly seconds: number;
  readonly hosts: number;
}

/** The training report: loss per epoch, cluster sizes, and a 2-D projection of a sample by cluster. */
export function kmeansReport(input: KMeansReportInput): Report {
  const { model, sample } = input;
  const rows = sample.rows;
  const { labels } = assignJs(sample.values, rows, model.centroids, model.k, model.dim);
  const xy =
    rows > 1 ? projectTo2d(sample.values, rows, model.dim, createRandom(7)) : new Float64Array(rows * 2);
  const points = Array.from({ length: rows }, (_, i) => ({
    x: xy[i * 2]!,
    y: xy[i * 2 + 1]!,
    group: labels[i]!,
  }));
  const sizes = Array.from(input.clusterSizes, (value, i) => ({
    label: String(i),
    value: Math.round(value),
  }));
  return {
    title: `k-means training report (k=${model.k})`,
    summary: {
      algorithm: 'kmeans (web-scale mini-batch + local Lloyd)',
      records: input.records,
      feature_dim: model.dim,
      k: model.k,
      epochs: input.hyperparameters.epochs,
      hosts: input.hosts,
      'training time (s)': Number(input.seconds.toFixed(3)),
      ...Object.fromEntries(Object.entries(input.metrics).map(([name, value]) => [name, value])),
    },
    sections: [
      {
        heading: 'Loss per epoch',
        paragraphs: [
          'Mean squared distance of each record to its nearest streaming center when it was read ' +
            `(k x extra_center_factor = ${input.hyperparameters.k * input.hyperparameters.extra_center_factor} centers).`,
        ],
        chart: lineChart(
          [{ name: 'streaming msd', points: input.epochLosses.map((loss, e) => [e + 1, loss]) }],
          {
            title: 'Loss per epoch',
            xLabel: 'epoch',
            yLabel: 'mean squared distance',
          },
        ),
      },
      {
        heading: 'Cluster sizes',
        chart: barChart(sizes, { title: 'Records per cluster', xLabel: 'cluster', yLabel: 'records' }),
      },
      {
        heading: '2-D projection of a sample',
        paragraphs: [
          `${rows} records drawn uniformly from the training data, projected on their two principal ` +
            'directions and colored by closest cluster.',
        ],
        chart: scatterPlot(points, { title: 'Sample by cluster', xLabel: 'PC 1', yLabel: 'PC 2' }),
      },
      {
        heading: 'Centroids',
        table: {
          columns: ['cluster', ...Array.from({ length: Math.min(model.dim, 12) }, (_, t) => `f${t + 1}`)],
          rows: Array.from({ length: model.k }, (_, j) => [
            j,
            ...Array.from(model.centroids.subarray(j * model.dim, j * model.dim + Math.min(model.dim, 12))),
          ]),
        },
      },
    ],
    generatedAt: new Date().toISOString(),
  };
}
