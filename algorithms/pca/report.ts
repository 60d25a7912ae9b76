import { type Report, barChart, lineChart } from '../../src/report/index.js';
import type { PcaHyperparameters } from './hyperparameters.js';
import { type PcaModel, explainedVariance } from './math/solve.js';

/** Everything the PCA training report shows. */
export interface PcaReportInput {
  readonly hyperparameters: PcaHyperparameters;
  readonly model: PcaModel;
  readonly seconds: number;
  readonly hosts: number;
}

/** The training report: explained variance per component (scree) and its cumulative ratio. */
export function pcaReport(input: PcaReportInput): Report {
  const { model, hyperparameters: hp } = input;
  const k = model.numComponents;
  // Largest first, as a scree plot reads; component 1 is the last column of `v`.
  const variance = [...explainedVariance(model)].reverse();
  const ratio = variance.map((v) => (model.totalVariance > 0 ? v / model.totalVariance : 0));
  let running = 0;
  const cumulative = ratio.map((r) => (running += r));
  return {
    title: `PCA training report (${k} components)`,
    summary: {
      algorithm: `pca (${hp.algorithm_mode})`,
      records: model.n,
      feature_dim: model.dim,
      num_components: k,
      subtract_mean: String(hp.subtract_mean),
      ...(hp.algorithm_mode === 'randomized' ? { extra_components: hp.extra_components } : {}),
      hosts: input.hosts,
      'total variance': model.totalVariance,
      'explained variance ratio': cumulative[k - 1] ?? 0,
      'training time (s)': Number(input.seconds.toFixed(3)),
    },
    sections: [
      {
        heading: 'Explained variance (scree)',
        paragraphs: [
          'Variance along each component, largest first. In model_algo-1 the components are stored ' +
            'smallest first, as SageMaker does: component 1 here is the last column of v.',
        ],
        chart: barChart(
          variance.map((value, i) => ({ label: String(i + 1), value })),
          { title: 'Explained variance per component', xLabel: 'component', yLabel: 'variance' },
        ),
      },
      {
        heading: 'Cumulative explained variance ratio',
        chart: lineChart([{ name: 'cumulative ratio', points: cumulative.map((c, i) => [i + 1, c]) }], {
          title: 'Cumulative explained variance ratio',
          xLabel: 'components',
          yLabel: 'ratio of total variance',
        }),
        table: {
          columns: ['component', 'singular value', 'variance', 'ratio', 'cumulative'],
          rows: variance.map((v, i) => [i + 1, model.s[k - 1 - i]!, v, ratio[i]!, cumulative[i]!]),
        },
      },
    ],
    generatedAt: new Date().toISOString(),
  };
}
