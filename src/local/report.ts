import path from 'node:path';
import type { LocalTrainResult } from './train-job.js';
import type { TransformResult } from './transform.js';

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function list(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} files)` : shown || 'empty';
}

/** The human summary printed at the end of `smkit local train`. */
export function describeTraining(result: LocalTrainResult): string {
  const lines = [
    `Training job ${result.jobName}: ${result.status}${result.secondaryStatus !== result.status ? ` (${result.secondaryStatus})` : ''} in ${result.seconds.toFixed(1)} s on ${result.hosts.length} host${result.hosts.length > 1 ? 's' : ''}`,
  ];
  if (result.failureReason) lines.push(`FailureReason: ${result.failureReason}`);
  for (const host of result.hosts) lines.push(`  ${host.host}: exit code ${host.exitCode}`);
  for (const pipe of result.pipes) {
    lines.push(`  ${pipe.host} pipe ${pipe.channel}: ${pipe.epochs} epoch(s), ${size(pipe.bytes)}`);
  }
  if (result.metrics.length) {
    lines.push('Final metrics:');
    for (const metric of result.metrics) {
      lines.push(
        `  ${metric.name} = ${metric.last} (${metric.count} value(s), min ${metric.min}, max ${metric.max})`,
      );
    }
  }
  for (const artifact of [result.model, result.output]) {
    if (artifact) {
      lines.push(
        `${path.basename(artifact.file)}: ${artifact.file} (${size(artifact.bytes)}: ${list(artifact.members)})`,
      );
    }
  }
  if (result.trees) lines.push(`/opt/ml trees kept in ${result.trees}`);
  return `${lines.join('\n')}\n`;
}

/** The human summary printed at the end of `smkit local transform`. */
export function describeTransform(result: TransformResult): string {
  const { parameters: p } = result;
  const records = result.files.reduce((sum, file) => sum + file.records, 0);
  const requests = result.files.reduce((sum, file) => sum + file.requests, 0);
  const lines = [
    `Transform: ${result.files.length} file(s) done, ${result.failures.length} failed; ${records} records in ${requests} request(s), ${result.seconds.toFixed(1)} s`,
    `  BatchStrategy ${p.BatchStrategy} (${p.source.BatchStrategy}), MaxPayloadInMB ${p.MaxPayloadInMB} (${p.source.MaxPayloadInMB}), MaxConcurrentTransforms ${p.MaxConcurrentTransforms} (${p.source.MaxConcurrentTransforms})`,
  ];
  for (const file of result.files) lines.push(`  ${file.output}`);
  for (const failure of result.failures) lines.push(`  FAILED ${failure.input}: ${failure.error}`);
  return `${lines.join('\n')}\n`;
}
