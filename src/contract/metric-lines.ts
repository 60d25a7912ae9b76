import type { MetricDefinition } from './job-spec.js';

/**
 * SageMaker's built-in algorithm log lines, byte for byte, so users' MetricDefinitions regexes
 * (`test msd <loss>=(\S+)`, `completed (\S+) %`) and tuning jobs work unchanged.
 */

/** `#quality_metric: host=algo-1, train msd <loss>=0.4327` */
export function qualityMetricLine(host: string, channel: string, metric: string, value: number): string {
  return `#quality_metric: host=${host}, ${channel} ${metric} <loss>=${formatMetricValue(value)}`;
}

/** `#progress_metric: host=algo-1, completed 100 % of epochs` */
export function progressMetricLine(host: string, percent: number): string {
  return `#progress_metric: host=${host}, completed ${formatMetricValue(Math.round(percent * 1000) / 1000)} % of epochs`;
}

const PROGRESS_LINE = /^#progress_metric: host=([^,\s]+), completed (\S+) % of epochs\s*$/;

/**
 * Reads a line written by {@link progressMetricLine} back (as a job's log shows it); `undefined` for
 * any other line.
 * @example parseProgressMetricLine('#progress_metric: host=algo-1, completed 50 % of epochs')
 * // { host: 'algo-1', percent: 50 }
 */
export function parseProgressMetricLine(line: string): { host: string; percent: number } | undefined {
  const match = PROGRESS_LINE.exec(line);
  const percent = Number(match?.[2]);
  return match && Number.isFinite(percent) ? { host: match[1]!, percent } : undefined;
}

/** `#throughput_metric: host=algo-1, train throughput=4053.27 records/second` */
export function throughputMetricLine(host: string, channel: string, recordsPerSecond: number): string {
  return `#throughput_metric: host=${host}, ${channel} throughput=${formatMetricValue(recordsPerSecond)} records/second`;
}

/** A number as the Python images print it: shortest round-trip text, integers without a fraction. */
export function formatMetricValue(value: number): string {
  return String(value);
}

/** A `#metrics` JSON line: counters and timers with SageMaker's {sum, count, min, max} statistics. */
export interface MetricsRecord {
  /** Seconds since the epoch. */
  readonly startTime: number;
  readonly endTime: number;
  /** `Host`, `Operation`, `Algorithm` (e.g. `AWS/KMeansWebscale`), optionally `Meta`, `epoch`. */
  readonly dimensions: Readonly<Record<string, string | number>>;
  /** One observation per metric (counts, or timers in milliseconds). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** `#metrics {"StartTime": ..., "EndTime": ..., "Dimensions": {...}, "Metrics": {"x": {"sum": 1.0, ...}}}` */
export function metricsJsonLine(record: MetricsRecord): string {
  const metrics: Record<string, { sum: number; count: number; min: number; max: number }> = {};
  for (const [name, value] of Object.entries(record.metrics)) {
    metrics[name] = { sum: value, count: 1, min: value, max: value };
  }
  return `#metrics ${JSON.stringify({
    StartTime: record.startTime,
    EndTime: record.endTime,
    Dimensions: record.dimensions,
    Metrics: metrics,
  })}`;
}

export type { MetricDefinition } from './job-spec.js';

/**
 * The definition that reads {@link qualityMetricLine}'s value back, named `<channel>:<metric>` as
 * SageMaker names the built-ins' metrics.
 * @example qualityMetricDefinition('test', 'msd') // { Name: 'test:msd', Regex: '#quality_metric: host=\\S+, test msd <loss>=(\\S+)' }
 */
export function qualityMetricDefinition(channel: string, metric: string): MetricDefinition {
  return {
    Name: `${channel}:${metric}`,
    Regex: `#quality_metric: host=\\S+, ${channel} ${metric} <loss>=(\\S+)`,
  };
}

/** The definition that reads {@link progressMetricLine}'s percentage back (`train:progress`). */
export function progressMetricDefinition(): MetricDefinition {
  return { Name: 'train:progress', Regex: '#progress_metric: host=\\S+, completed (\\S+) %' };
}

/** The definition that reads {@link throughputMetricLine}'s records/second back (`<channel>:throughput`). */
export function throughputMetricDefinition(channel: string): MetricDefinition {
  return {
    Name: `${channel}:throughput`,
    Regex: `#throughput_metric: host=\\S+, ${channel} throughput=(\\S+) records/second`,
  };
}
