/**
 * One progress line on a terminal for the local commands: a bar that redraws in place, with log
 * lines printed above it. Rendering is pure; only {@link createStatusLine} writes.
 */
import type { TransformProgress } from '../local/transform.js';

/** Width of the bar between its brackets, in characters. */
export const BAR_WIDTH = 24;

function clamp(fraction: number): number {
  return Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
}

/**
 * A text bar and percentage for a fraction in [0, 1] (clamped).
 * @example renderProgressBar(0.5, 8) === '[####----]  50%'
 */
export function renderProgressBar(fraction: number, width = BAR_WIDTH): string {
  const done = clamp(fraction);
  const filled = Math.floor(done * width);
  const percent = `${Math.floor(done * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}`;
}

/** Training progress of every host: host -> percent of epochs completed (0-100). */
export type HostProgress = Readonly<Record<string, number>>;

/**
 * The training line: the mean over all hosts (a host not heard from yet counts 0), each host's share
 * when there are several, and the time so far.
 * @example renderTrainingProgress(['algo-1', 'algo-2'], { 'algo-1': 50 }, 3.2)
 * // 'training [######------------------]  25% (algo-1 50%, algo-2 0%) 3 s'
 */
export function renderTrainingProgress(
  hosts: readonly string[],
  progress: HostProgress,
  seconds: number,
): string {
  const percents = hosts.map((host) => clamp((progress[host] ?? 0) / 100) * 100);
  const mean = percents.reduce((sum, p) => sum + p, 0) / Math.max(1, hosts.length);
  const each =
    hosts.length > 1 ? ` (${hosts.map((host, i) => `${host} ${Math.floor(percents[i]!)}%`).join(', ')})` : '';
  return `training ${renderProgressBar(mean / 100)}${each} ${Math.floor(seconds)} s`;
}

/**
 * The transform line: files done plus the share of the current file read (or, without byte counts, of
 * its mini-batches). Files are cut as they are read, so `fileBatches` counts the batches cut so far.
 * @example renderTransformProgress({ file: 'a.csv', filesDone: 1, files: 2, batches: 1, fileBatches: 2 })
 * // 'transform [##################------]  75% file 2/2 a.csv: 1/2 mini-batches'
 */
export function renderTransformProgress(p: TransformProgress): string {
  const ofFile =
    p.fileBytes !== undefined && p.bytesRead !== undefined
      ? p.bytesRead / Math.max(1, p.fileBytes)
      : p.batches / Math.max(1, p.fileBatches);
  const fraction = (p.filesDone + ofFile) / Math.max(1, p.files);
  return `transform ${renderProgressBar(fraction)} file ${p.filesDone + 1}/${p.files} ${p.file}: ${p.batches}/${p.fileBatches} mini-batches`;
}

/** A stream the status line writes to; `isTTY` decides whether a bar is drawn at all. */
export interface StatusStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** A redrawn last line on a terminal; log lines go above it. Without a terminal only logs print. */
export interface StatusLine {
  /** Replaces the progress line (drawn only when enabled). */
  show(text: string): void;
  /** Prints a whole line above the progress line. */
  log(line: string): void;
  /** Clears the progress line, leaving the terminal as before. */
  done(): void;
}

const CLEAR = '\r\u001b[K';

/**
 * A status line on `stream`, drawn only when `enabled` (a TTY and not `--json`). Redraws at most every
 * `intervalMs` (the latest text is drawn when the interval ends), so fast progress does not flood the
 * terminal.
 */
export function createStatusLine(stream: StatusStream, enabled: boolean, intervalMs = 100): StatusLine {
  let current = '';
  let drawnAt = 0;
  let pending: NodeJS.Timeout | undefined;
  const draw = () => {
    pending = undefined;
    drawnAt = Date.now();
    stream.write(`${CLEAR}${current}`);
  };
  return {
    show(text) {
      if (!enabled || text === current) return;
      current = text;
      const wait = drawnAt + intervalMs - Date.now();
      if (wait <= 0) draw();
      else pending ??= setTimeout(draw, wait).unref();
    },
    log(line) {
      if (enabled && current) stream.write(`${CLEAR}${line}\n${current}`);
      else stream.write(`${line}\n`);
    },
    done() {
      clearTimeout(pending);
      pending = undefined;
      if (enabled && current) stream.write(CLEAR);
      current = '';
    },
  };
}
