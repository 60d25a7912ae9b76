import { writeSync } from 'node:fs';
import type { MetricsWriter } from '../../algorithms/types.js';

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
