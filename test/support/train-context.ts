import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { z } from 'zod';
import type { Channels, TrainContext } from '../../algorithms/types.js';
import {
  type ChannelConfig,
  type InputDataConfig,
  SINGLE_HOST,
  readTrainingSettings,
  resolvePaths,
} from '../../src/contract/index.js';
import type { RecordBatch } from '../../src/io/records.js';
import { createChannels } from '../../src/train/channels.js';
import { createCluster } from '../../src/train/cluster.js';
import { createTrainContext } from '../../src/train/context.js';

/** Test helpers: CSV tables, in-memory channels and a training context rooted in a temp dir. */

/** A labelled table read from a CSV file with a header row and the label in column `labelColumn`. */
export interface Table {
  readonly rows: number;
  readonly dim: number;
  readonly values: Float32Array;
  readonly labels: string[];
}

export function readLabelledCsv(file: string, labelColumn: number): Table {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const labels: string[] = [];
  const values: number[] = [];
  for (const line of lines) {
    const cells = line.split(',');
    labels.push(cells[labelColumn]!);
    cells.forEach((cell, i) => {
      if (i !== labelColumn) values.push(Number(cell));
    });
  }
  return { rows: lines.length, dim: values.length / lines.length, values: Float32Array.from(values), labels };
}

/** Channels served from arrays, in batches of the requested size, as File mode would (every epoch again). */
export function arrayChannels(
  data: Readonly<Record<string, { values: Float32Array; dim: number }>>,
): Channels {
  const names = Object.keys(data).sort();
  return {
    names,
    has: (name) => name in data,
    config: () =>
      ({ TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated' }) as unknown as ChannelConfig,
    open(name, options) {
      const table = data[name];
      if (!table) throw new Error(`no channel ${name}`);
      return (async function* (): AsyncGenerator<RecordBatch> {
        const rows = table.values.length / table.dim;
        for (let start = 0; start < rows; start += options.batchSize) {
          const end = Math.min(rows, start + options.batchSize);
          yield {
            rows: end - start,
            dim: table.dim,
            values: table.values.slice(start * table.dim, end * table.dim),
          };
        }
      })();
    },
  };
}

const SINGLE_HOST_NAMES = { hosts: ['algo-1'], current: 'algo-1' };

/**
 * A training context rooted in a temp dir, with metric lines captured in `lines`; one host
 * (`algo-1`) unless `hosts`/`current` are given (use loopback IP literals as host names to test
 * several hosts in one process).
 */
export function trainContext<H>(
  schema: z.ZodType<H, Record<string, string>>,
  hyperparameters: Record<string, string>,
  channels: Channels,
  base = mkdtempSync(path.join(tmpdir(), 'smkit-job-')),
  hosts: { readonly hosts: string[]; readonly current: string } = SINGLE_HOST_NAMES,
): { context: TrainContext<H>; lines: string[]; base: string } {
  const lines: string[] = [];
  const paths = resolvePaths(base);
  const context = createTrainContext<H>({
    hyperparameters: schema.parse(hyperparameters),
    channels,
    hosts: createCluster(
      hosts === SINGLE_HOST_NAMES
        ? SINGLE_HOST
        : { current_host: hosts.current, hosts: hosts.hosts, network_interface_name: 'eth0' },
    ),
    hostWaitSeconds: readTrainingSettings({}).hostWaitSeconds,
    metrics: { line: (text) => lines.push(text) },
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    modelDir: paths.model,
    outputDataDir: paths.outputData,
    checkpointDir: paths.checkpoints,
  });
  return { context, lines, base };
}

/** The channels of a job tree rooted at `base`, read from its input/data files as the runner reads them. */
export function fileChannels(base: string, inputDataConfig: InputDataConfig): Channels {
  return createChannels({
    paths: resolvePaths(base),
    inputDataConfig,
    settings: readTrainingSettings({}),
    log: pino({ level: 'silent' }),
  });
}
