import type { MetricDefinition } from '../contract/job-spec.js';

/**
 * The metrics SageMaker defines for its built-in k-means and PCA (over their log lines), applied when a
 * built-in runs without --metric-definitions. A metric whose line never appears is left out.
 */
export const BUILTIN_METRIC_DEFINITIONS: readonly MetricDefinition[] = Object.freeze([
  { Name: 'train:msd', Regex: '#quality_metric: host=\\S+, train msd <loss>=(\\S+)' },
  { Name: 'test:msd', Regex: '#quality_metric: host=\\S+, test msd <loss>=(\\S+)' },
  { Name: 'test:ssd', Regex: '#quality_metric: host=\\S+, test ssd <loss>=(\\S+)' },
  { Name: 'train:progress', Regex: '#progress_metric: host=\\S+, completed (\\S+) %' },
  {
    Name: 'train:throughput',
    Regex: '#throughput_metric: host=\\S+, train throughput=(\\S+) records/second',
  },
]);

/** The values one metric took during a job. */
export interface MetricSeries {
  readonly name: string;
  /** The last value, as SageMaker's FinalMetricDataList reports it. */
  readonly last: number;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/**
 * Applies MetricDefinitions to log lines as SageMaker does to the job's stdout/stderr: the first capture
 * group of each matching regex is the value; lines that do not parse as a number are ignored.
 */
export class MetricCollector {
  private readonly series = new Map<string, { last: number; min: number; max: number; count: number }>();
  private readonly patterns: readonly { name: string; regex: RegExp }[];

  constructor(definitions: readonly MetricDefinition[]) {
    this.patterns = definitions.map((d) => ({ name: d.Name, regex: new RegExp(d.Regex) }));
  }

  /** Feeds one log line; returns the metrics it set. */
  line(text: string): { name: string; value: number }[] {
    const found: { name: string; value: number }[] = [];
    for (const { name, regex } of this.patterns) {
      const raw = regex.exec(text)?.[1];
      const value = Number(raw);
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(value)) continue;
      const previous = this.series.get(name);
      this.series.set(name, {
        last: value,
        min: Math.min(previous?.min ?? value, value),
        max: Math.max(previous?.max ?? value, value),
        count: (previous?.count ?? 0) + 1,
      });
      found.push({ name, value });
    }
    return found;
  }

  /** Every metric seen, in definition order. */
  results(): MetricSeries[] {
    const seen: MetricSeries[] = [];
    for (const { name } of this.patterns) {
      const series = this.series.get(name);
      if (series && !seen.some((s) => s.name === name)) seen.push({ name, ...series });
    }
    return seen;
  }
}
