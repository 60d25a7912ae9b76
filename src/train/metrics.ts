import { writeSync } from 'node:fs';
import type { Metrics } from '../../algorithms/types.js';
import {
  metricsJsonLine,
  progressMetricLine,
  qualityMetricLine,
  throughputMetricLine,
} from '../contract/metric-lines.js';

/** Writes one metric line. */
export interface MetricsWriter {
  line(text: string): void;
}

/**
 * A MetricsWriter that writes each line synchronously to a file descriptor (stdout by default), so
 * that SageMaker's metric regexes see every line at once and none is lost when the process exits.
 */
export function createMetricsWriter(fd = 1): MetricsWriter {
  return {
    line(text: string): void {
      const data = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
      let written = 0;
      while (written < data.length) {
        try {
          written += writeSync(fd, data, written);
        } catch (error) {
          // A non-blocking pipe may be full for a moment; retry rather than drop the metric.
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
      }
    },
  };
}

/** An algorithm's typed metric methods for `host`, writing through `writer`. */
export function createMetrics(host: string, writer: MetricsWriter): Metrics {
  return {
    quality: (channel, metric, value) => writer.line(qualityMetricLine(host, channel, metric, value)),
    progress: (percent) => writer.line(progressMetricLine(host, percent)),
    throughput: (channel, recordsPerSecond) =>
      writer.line(throughputMetricLine(host, channel, recordsPerSecond)),
    record: (record) => writer.line(metricsJsonLine(record)),
    line: (text) => writer.line(text),
  };
}
