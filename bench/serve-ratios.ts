/**
 * The ratios and targets bench/serve.ts prints (issue 14's single-row goals among them), from the phases
 * that were measured: a phase that did not run (`--only-bodies` skips the single-row and /ping phases)
 * prints nothing and sets no target.
 */
import type { WrkResult } from './kmeans-serving.js';

/** A wrk result plus the server's CPU time per request. */
export interface Measured extends WrkResult {
  readonly cpuMicrosPerRequest: number;
}

/** One phase's medians: the peer, smkit and the bare server, and the baseline checkout with `--baseline`. */
export type PhaseResults = Record<'peer' | 'smkit' | 'bare', Measured> & { readonly baseline?: Measured };

/** Ratios, targets met, and the report's lines. */
export function servingRatios(
  results: Readonly<Record<string, PhaseResults>>,
  pingUnderLoad: Readonly<Record<string, WrkResult>>,
): { ratios: Record<string, number>; targets: Record<string, boolean>; lines: string[] } {
  const lines: string[] = [];
  // Only what was measured: with --only-bodies there is no single-row phase and no /ping phase.
  const single = results['single'];
  const multi = results['multi']!;
  const ratios: Record<string, number> = {
    ...(single
      ? {
          singleVsPeer: single.smkit.requestsPerSecond / single.peer.requestsPerSecond,
          singleVsBare: single.smkit.requestsPerSecond / single.bare.requestsPerSecond,
          singleP99VsPeer: single.smkit.p99Ms / single.peer.p99Ms,
          singleP99VsBare: single.smkit.p99Ms / single.bare.p99Ms,
          singleCpuVsPeer: single.peer.cpuMicrosPerRequest / single.smkit.cpuMicrosPerRequest,
          singleCpuVsBare: single.bare.cpuMicrosPerRequest / single.smkit.cpuMicrosPerRequest,
          ...(single.baseline
            ? {
                singleCpuVsBaseline: single.baseline.cpuMicrosPerRequest / single.smkit.cpuMicrosPerRequest,
              }
            : {}),
        }
      : {}),
    multiRowsVsPeer: multi.smkit.requestsPerSecond / multi.peer.requestsPerSecond,
    multiVsBare: multi.smkit.requestsPerSecond / multi.bare.requestsPerSecond,
    multiCpuVsPeer: multi.peer.cpuMicrosPerRequest / multi.smkit.cpuMicrosPerRequest,
  };
  const pings = Object.values(pingUnderLoad);
  const targets: Record<string, boolean> = {
    ...(single
      ? {
          'single-row req/s >= 15x peer': ratios['singleVsPeer']! >= 15,
          'single-row p99 < peer': single.smkit.p99Ms < single.peer.p99Ms,
          'single-row req/s >= 0.8x bare node:http': ratios['singleVsBare']! >= 0.8,
          'single-row p99 <= 2x bare node:http': ratios['singleP99VsBare']! <= 2,
        }
      : {}),
    '1000-row rows/s >= 10x peer': ratios['multiRowsVsPeer']! >= 10,
    ...(pings.length ? { '/ping p99 < 50 ms while saturated': pings.every((p) => p.p99Ms < 50) } : {}),
  };
  const x = (name: string, digits = 2) => `${ratios[name]!.toFixed(digits)}x`;
  lines.push('', 'ratios (same run):');
  if (single) {
    lines.push(`  single-row req/s  smkit / peer = ${x('singleVsPeer', 1)}`);
    lines.push(`  single-row req/s  smkit / bare node:http = ${x('singleVsBare')}`);
    lines.push(`  single-row p99    smkit / peer = ${ratios['singleP99VsPeer']!.toFixed(3)}`);
    lines.push(`  single-row p99    smkit / bare node:http = ${x('singleP99VsBare')}`);
  }
  lines.push(`  1000-row rows/s   smkit / peer = ${x('multiRowsVsPeer', 1)}`);
  lines.push(`  1000-row rows/s   smkit / bare node:http = ${x('multiVsBare')}`);
  lines.push(
    `  CPU per request   peer / smkit = ${single ? `${x('singleCpuVsPeer', 1)} (single), ` : ''}${x('multiCpuVsPeer', 1)} (1000-row)`,
  );
  if (single) {
    lines.push(
      `  CPU per request   bare / smkit = ${ratios['singleCpuVsBare']!.toFixed(2)} (single row: smkit's share of bare speed per CPU)`,
    );
    if (ratios['singleCpuVsBaseline'] !== undefined)
      lines.push(
        `  CPU per request   baseline / smkit = ${x('singleCpuVsBaseline')} (single row, after / before)`,
      );
  }
  for (const [target, met] of Object.entries(targets)) lines.push(`  ${met ? 'MET ' : 'MISS'} ${target}`);
  return { ratios, targets, lines };
}
