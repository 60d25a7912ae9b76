/**
 * Threshold sweep: where should a body stop computing inline on the HTTP thread (between two polls of
 * the sockets) and take turns (`SMKIT_TURN_MIN_BYTES`, src/serve/turnstile.ts), and where should it
 * leave the HTTP thread for the worker pool (`SMKIT_POOL_MIN_BYTES`, src/serve/pool.ts)? For CSV bodies
 * of 1 to 10,000 rows (k-means d=50 k=10, `smkit serve` with its default processes), it measures three
 * routes: inline without turns, inline taking turns, and the pool; each saturated with wrk while a
 * second wrk times GET /ping. A threshold T means "route A below T bytes, route B from T on", so the
 * per-size results give every candidate threshold's throughput and /ping p99; the chosen ones are the
 * smallest sizes from which the next route wins. Writes bench/results/sweep.json.
 *
 * Usage: npm run build && node dist/bench/sweep.js [--seconds 4] [--connections 32] [--rows 1,10,...]
 *   [--out FILE]
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  csv,
  fitKmeansModel,
  makeRows,
  option,
  repo,
  startSmkitServe,
  stringOption,
  treeCpuSeconds,
  waitForPing,
  wrk,
  wrkPostScript,
} from './kmeans-serving.js';

const SECONDS = option('seconds', 4);
const CONNECTIONS = option('connections', 32);
const WORKERS = option('workers', os.availableParallelism());
const ROWS = stringOption('rows', '1,10,30,100,300,1000,3000,10000').split(',').map(Number);
const OUT = stringOption('out', path.join(repo, 'bench', 'results', 'sweep.json'));
const PORT = 18095;

/** The three routes a body can take, as the two thresholds select them. */
const ROUTES = {
  inline: { SMKIT_TURN_MIN_BYTES: 'Infinity', SMKIT_POOL_MIN_BYTES: 'Infinity' },
  turns: { SMKIT_TURN_MIN_BYTES: '0', SMKIT_POOL_MIN_BYTES: 'Infinity' },
  pool: { SMKIT_TURN_MIN_BYTES: '0', SMKIT_POOL_MIN_BYTES: '0' },
} as const;
type Route = keyof typeof ROUTES;

interface Point {
  readonly rows: number;
  readonly bytes: number;
  readonly requestsPerSecond: number;
  readonly rowsPerSecond: number;
  readonly rowsPerCpuSecond: number;
  readonly p99Ms: number;
  readonly pingP50Ms: number;
  readonly pingP99Ms: number;
  readonly errors: number;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-bench-sweep-'));
  let server: ChildProcess | undefined;
  try {
    await fitKmeansModel(work);
    const queries = makeRows(Math.max(...ROWS), 2);
    const scripts = new Map<number, { script: string; bytes: number }>();
    for (const rows of ROWS) {
      const body = csv(queries.slice(0, rows));
      const file = path.join(work, `${rows}.csv`);
      writeFileSync(file, body);
      scripts.set(rows, {
        script: await wrkPostScript(path.join(work, `${rows}.lua`), file),
        bytes: body.length,
      });
    }
    const points: Record<Route, Point[]> = { inline: [], turns: [], pool: [] };
    for (const route of Object.keys(ROUTES) as Route[]) {
      server = startSmkitServe(repo, work, PORT, WORKERS, { ...ROUTES[route] });
      await waitForPing(PORT, `smkit serve (${route})`);
      // The pool's threads load their model copy after /ping turns 200.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const rows of ROWS) {
        const { script, bytes } = scripts.get(rows)!;
        const url = `http://127.0.0.1:${PORT}`;
        await wrk(`${url}/invocations`, script, CONNECTIONS, 1); // warm-up
        const cpuBefore = treeCpuSeconds([server.pid!]);
        // Megabyte bodies come a few at a time (batch transform sends MaxConcurrentTransforms of
        // them): 32 of them in flight would not finish within a short run on a busy machine.
        const connections = bytes >= 1024 * 1024 ? Math.min(CONNECTIONS, 4) : CONNECTIONS;
        const [load, ping] = await Promise.all([
          wrk(`${url}/invocations`, script, connections, SECONDS, 60),
          wrk(`${url}/ping`, undefined, 1, SECONDS - 1),
        ]);
        const cpu = treeCpuSeconds([server.pid!]) - cpuBefore;
        const point: Point = {
          rows,
          bytes,
          requestsPerSecond: load.requestsPerSecond,
          rowsPerSecond: load.requestsPerSecond * rows,
          rowsPerCpuSecond: (load.requests * rows) / cpu,
          p99Ms: load.p99Ms,
          pingP50Ms: ping.p50Ms,
          pingP99Ms: ping.p99Ms,
          errors: load.errors,
        };
        points[route].push(point);
        console.log(
          `${route.padEnd(6)} ${String(rows).padStart(5)} rows (${String(bytes).padStart(7)} B)` +
            `  ${point.rowsPerSecond.toFixed(0).padStart(8)} rows/s  ${point.rowsPerCpuSecond.toFixed(0).padStart(8)} rows/CPU-s` +
            `  p99 ${point.p99Ms.toFixed(1)} ms  /ping p99 ${point.pingP99Ms.toFixed(1)} ms  errors ${point.errors}`,
        );
      }
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('exit', resolve));
      server = undefined;
    }

    // Every candidate threshold (each measured body size) for both knobs, with what it would give.
    const at = (route: Route, i: number) => points[route][i]!;
    const candidates = (below: Route, from: Route) =>
      ROWS.map((_, t) => ({
        thresholdBytes: at(from, t).bytes,
        bySize: ROWS.map((rows, i) => {
          const p = at(i < t ? below : from, i);
          return { rows, rowsPerSecond: p.rowsPerSecond, pingP99Ms: p.pingP99Ms };
        }),
      }));
    // The route from `from` on wins at a size when it keeps >= 95% of the other's throughput and
    // answers /ping faster, or when it is faster outright.
    const wins = (below: Route, from: Route, i: number) => {
      const a = at(below, i);
      const b = at(from, i);
      return (
        b.rowsPerSecond > a.rowsPerSecond * 1.05 ||
        (b.rowsPerSecond >= a.rowsPerSecond * 0.95 && b.pingP99Ms < a.pingP99Ms)
      );
    };
    // The smallest size from which the next route wins at that size and every larger one.
    const choose = (below: Route, from: Route) => {
      let t = ROWS.length;
      while (t > 0 && wins(below, from, t - 1)) t--;
      return t < ROWS.length ? at(from, t).bytes : Number.POSITIVE_INFINITY;
    };
    const chosen = {
      turnMinBytes: choose('inline', 'turns'),
      poolMinBytes: choose('turns', 'pool'),
    };
    console.log(`\nchosen: turnstile from ${chosen.turnMinBytes} B, pool from ${chosen.poolMinBytes} B`);
    await mkdir(path.dirname(OUT), { recursive: true });
    await writeFile(
      OUT,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cpus: os.availableParallelism(), node: process.version },
          setup: {
            rows: ROWS,
            workers: WORKERS,
            connections: CONNECTIONS,
            seconds: SECONDS,
            loadAverage: os.loadavg(),
          },
          routes: ROUTES,
          points,
          candidates: { turnstile: candidates('inline', 'turns'), pool: candidates('turns', 'pool') },
          chosen: {
            turnMinBytes: String(chosen.turnMinBytes),
            poolMinBytes: String(chosen.poolMinBytes),
          },
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${OUT}`);
  } finally {
    server?.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
  }
}

await main();
