/**
 * Channel ingest benchmark: smkit's CSV and RecordIO-protobuf channel readers against pandas.read_csv
 * (C engine, float32) and numpy.loadtxt on the same CSV, with peak RSS at two file sizes.
 *
 *   npm run build && npm run bench:ingest                 # ~1 GB CSV (the size)
 *   npm run bench:ingest -- --size-mb 64                  # small run for CI
 *   options: --size-mb N (CSV size, default 1024), --dim N (features, default 50), --skip-numpy
 *
 * Every measurement runs in its own child process so peak RSS (maxRSS) belongs to that run alone.
 * Results go to bench/results/ingest.json.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { resolvePaths } from '../src/contract/index.js';
import { encodeDenseRecords } from '../src/io/recordio-protobuf.js';
import { createChannels } from '../src/train/channels.js';

const PYTHON = '/usr/bin/python3';
const BATCH_SIZE = 5000;

interface RunResult {
  readonly rows: number;
  /** Wall-clock seconds of the read loop. */
  readonly seconds: number;
  /** CPU seconds (user + system) of the read loop: steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
  readonly maxRssMB: number;
}

/** Child mode: read one channel with createChannels and report rows, time and peak RSS. */
async function child(base: string, format: 'csv' | 'recordio', dim: number): Promise<void> {
  const channel = format === 'csv' ? 'csv' : 'recordio';
  const channels = createChannels({
    paths: resolvePaths(base),
    inputDataConfig: {
      [channel]: {
        ContentType: format === 'csv' ? 'text/csv' : 'application/x-recordio-protobuf',
        TrainingInputMode: 'File',
        S3DistributionType: 'FullyReplicated',
        RecordWrapperType: 'None',
      },
    },
    settings: { pipeWaitSeconds: 1 },
    log: pino({ level: 'silent' }),
  });
  const start = performance.now();
  const cpu = process.cpuUsage();
  let rows = 0;
  let checksum = 0;
  for await (const batch of channels.open(channel, { batchSize: BATCH_SIZE, featureDim: dim })) {
    rows += batch.rows;
    checksum += batch.values[0]!;
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const result: RunResult & { checksum: number } = {
    rows,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    checksum,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** A deterministic pool of cells: CSV text and the float32 each parses to. */
function cellPool(size: number): { text: string[]; values: Float32Array } {
  let seed = 12345;
  const text: string[] = [];
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const cell = ((seed / 2 ** 32) * 200 - 100).toFixed(5);
    text.push(cell);
    values[i] = Number(cell);
  }
  return { text, values };
}

/**
 * Writes `rows` x `dim` rows as CSV and as RecordIO-protobuf (same values), streaming in blocks.
 * RecordIO rows are patched into a template record (all dense float32 rows share one layout).
 */
async function generate(dir: string, rows: number, dim: number): Promise<{ csv: string; recordio: string }> {
  const csv = path.join(dir, 'input/data/csv/data.csv');
  const recordio = path.join(dir, 'input/data/recordio/data.pbr');
  await mkdir(path.dirname(csv), { recursive: true });
  await mkdir(path.dirname(recordio), { recursive: true });
  const pool = cellPool(65521);
  const template = encodeDenseRecords({ rows: 1, dim, values: new Float32Array(dim) });
  const floatsAt = 8 + template.readUInt32LE(4) - dim * 4; // the floats end the payload
  const csvFile = await open(csv, 'w');
  const pbrFile = await open(recordio, 'w');
  const block = 10000;
  let cursor = 0;
  for (let start = 0; start < rows; start += block) {
    const count = Math.min(block, rows - start);
    const lines: string[] = [];
    const pbr = Buffer.alloc(template.length * count);
    const row = new Array<string>(dim);
    for (let r = 0; r < count; r++) {
      const at = r * template.length;
      template.copy(pbr, at);
      for (let c = 0; c < dim; c++) {
        const index = cursor;
        cursor = cursor + 7919 >= pool.text.length ? (cursor + 7919) % pool.text.length : cursor + 7919;
        row[c] = pool.text[index]!;
        pbr.writeFloatLE(pool.values[index]!, at + floatsAt + c * 4);
      }
      lines.push(row.join(','));
    }
    await csvFile.write(`${lines.join('\n')}\n`);
    await pbrFile.write(pbr);
  }
  await csvFile.close();
  await pbrFile.close();
  return { csv, recordio };
}

function runNode(base: string, format: 'csv' | 'recordio', dim: number): Promise<RunResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, '--child', format, '--base', base, '--dim', String(dim)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`)),
    );
  });
}

const PANDAS = `
import json, resource, sys, time
import numpy as np, pandas as pd
start, cpu = time.perf_counter(), time.process_time()
frame = pd.read_csv(sys.argv[1], header=None, dtype=np.float32, engine='c')
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({'rows': len(frame), 'seconds': seconds, 'cpuSeconds': cpu_seconds, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;
const NUMPY = `
import json, resource, sys, time
import numpy as np
start, cpu = time.perf_counter(), time.process_time()
array = np.loadtxt(sys.argv[1], delimiter=',', dtype=np.float32)
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({'rows': int(array.shape[0]), 'seconds': seconds, 'cpuSeconds': cpu_seconds, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

function runPython(code: string, file: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', code, file], { maxBuffer: 1 << 20 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    );
  });
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      base: { type: 'string' },
      dim: { type: 'string', default: '50' },
      'size-mb': { type: 'string', default: '1024' },
      'skip-numpy': { type: 'boolean', default: false },
      dir: { type: 'string', default: '/tmp/smkit-bench-ingest' },
    },
  });
  const dim = Number(values.dim);
  if (values.child) return child(values.base!, values.child as 'csv' | 'recordio', dim);

  const sizeMB = Number(values['size-mb']);
  const bytesPerRow = dim * 10; // "-12.34567," is 9-10 bytes per cell
  const sizes = [sizeMB / 4, sizeMB];
  const runs: Record<string, unknown>[] = [];
  let full: Record<string, RunResult & { megabytes: number }> = {};
  for (const size of sizes) {
    const rows = Math.round((size * 1e6) / bytesPerRow);
    const dir = path.join(values.dir!, `${Math.round(size)}mb`);
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`generating ${rows} rows x ${dim} (CSV ~${Math.round(size)} MB) in ${dir}\n`);
    const files = await generate(dir, rows, dim);
    const csvBytes = (await stat(files.csv)).size;
    const pbrBytes = (await stat(files.recordio)).size;
    const result: Record<string, RunResult & { megabytes: number }> = {};
    const measure = async (name: string, run: () => Promise<RunResult>, bytes: number) => {
      const r = await run();
      if (r.rows !== rows) throw new Error(`${name} read ${r.rows} rows, expected ${rows}`);
      result[name] = { ...r, megabytes: round(bytes / 1e6) };
      process.stderr.write(
        `  ${name.padEnd(16)} ${r.seconds.toFixed(2)} s (cpu ${r.cpuSeconds.toFixed(2)} s)  ` +
          `${mbps(bytes, r.seconds).toFixed(1)} MB/s  ` +
          `${Math.round(rows / r.seconds)} rows/s  peak RSS ${Math.round(r.maxRssMB)} MB\n`,
      );
    };
    await measure('smkit_csv', () => runNode(dir, 'csv', dim), csvBytes);
    await measure('smkit_recordio', () => runNode(dir, 'recordio', dim), pbrBytes);
    await measure('pandas_read_csv', () => runPython(PANDAS, files.csv), csvBytes);
    if (!values['skip-numpy']) await measure('numpy_loadtxt', () => runPython(NUMPY, files.csv), csvBytes);
    runs.push({
      csvMB: round(csvBytes / 1e6),
      recordioMB: round(pbrBytes / 1e6),
      rows,
      dim,
      results: result,
    });
    full = result;
    await rm(dir, { recursive: true, force: true });
  }
  const [small, large] = runs as { results: Record<string, RunResult> }[];
  const ratio = (slow: string, fast: string, key: 'seconds' | 'cpuSeconds') =>
    round(full[slow]![key] / full[fast]![key]);
  const ratios = {
    csv_speed_vs_pandas: ratio('pandas_read_csv', 'smkit_csv', 'seconds'),
    csv_cpu_vs_pandas: ratio('pandas_read_csv', 'smkit_csv', 'cpuSeconds'),
    ...(full['numpy_loadtxt']
      ? {
          csv_speed_vs_numpy: ratio('numpy_loadtxt', 'smkit_csv', 'seconds'),
          csv_cpu_vs_numpy: ratio('numpy_loadtxt', 'smkit_csv', 'cpuSeconds'),
        }
      : {}),
    recordio_speed_vs_smkit_csv: ratio('smkit_csv', 'smkit_recordio', 'seconds'),
    recordio_cpu_vs_smkit_csv: ratio('smkit_csv', 'smkit_recordio', 'cpuSeconds'),
    peak_rss_growth_smkit_csv: round(
      large!.results['smkit_csv']!.maxRssMB / small!.results['smkit_csv']!.maxRssMB,
    ),
    peak_rss_growth_smkit_recordio: round(
      large!.results['smkit_recordio']!.maxRssMB / small!.results['smkit_recordio']!.maxRssMB,
    ),
    peak_rss_growth_pandas: round(
      large!.results['pandas_read_csv']!.maxRssMB / small!.results['pandas_read_csv']!.maxRssMB,
    ),
  };
  const goals = {
    csv_at_least_pandas: ratios.csv_speed_vs_pandas >= 1,
    recordio_at_least_3x_csv: ratios.recordio_speed_vs_smkit_csv >= 3,
    memory_flat: ratios.peak_rss_growth_smkit_csv < 1.25 && ratios.peak_rss_growth_smkit_recordio < 1.25,
  };
  const report = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    node: process.version,
    batchSize: BATCH_SIZE,
    runs,
    ratios,
    goals,
  };
  const out = path.join(repoRoot(), 'bench/results/ingest.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ ratios, goals }, null, 2)}\nwrote ${out}\n`);
}

await main();
