/**
 * Helpers of the container system tests: `docker run` with the tests' label (host or no network
 * only), free loopback ports, /ping polling, and small deterministic datasets.
 */
import { constants, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { docker, mustRun, run } from '../../scripts/docker-image.js';
import { encodeDenseRecords } from '../../src/io/recordio-protobuf.js';
import { CONTAINER_LABEL, SMKIT_IMAGE } from './docker-names.js';
export { freePort } from '../../src/util/net.js';

/** Runs `docker run ... IMAGE COMMAND` to completion; returns the exit code and logs. */
export async function runContainer(
  options: readonly string[],
  command: readonly string[],
  image = SMKIT_IMAGE,
) {
  return run('docker', ['run', '--label', CONTAINER_LABEL, ...options, image, ...command]);
}

/** Starts `docker run -d ... IMAGE COMMAND` and returns the container id. */
export async function startContainer(
  options: readonly string[],
  command: readonly string[],
  image = SMKIT_IMAGE,
): Promise<string> {
  const id = await docker('run', '-d', '--label', CONTAINER_LABEL, ...options, image, ...command);
  return id.trim();
}

/** Waits for a container to exit and returns its exit code. */
export async function waitForExit(id: string): Promise<number> {
  return Number((await docker('wait', id)).trim());
}

/** The container's stdout and stderr, for failure messages. */
export async function logsOf(id: string): Promise<string> {
  const result = await run('docker', ['logs', id]);
  return result.stdout + result.stderr;
}

/** Polls `GET /ping` until it answers 200; throws with the container's logs after `timeoutMs`. */
export async function waitForPing(port: number, id: string, timeoutMs = 240_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
      if (reply.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`no 200 on /ping within ${timeoutMs} ms; logs:\n${await logsOf(id)}`);
    }
    const state = (await docker('inspect', '-f', '{{.State.Running}}', id)).trim();
    if (state !== 'true')
      throw new Error(`container exited before /ping answered; logs:\n${await logsOf(id)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Three well-separated clusters in 4 dimensions around these centers, 30 rows each. */
export const CENTERS = [
  [0, 0, 0, 0],
  [10, 10, 10, 10],
  [-10, 10, -10, 10],
] as const;

/** Deterministic rows near {@link CENTERS} (a fixed LCG, jitter within ±0.5). */
export function clusteredRows(perCluster = 30): number[][] {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const rows: number[][] = [];
  for (let i = 0; i < perCluster; i++) for (const center of CENTERS) rows.push(center.map((c) => c + next()));
  return rows;
}

/** Rows as headerless CSV. */
export function toCsv(rows: readonly number[][]): string {
  return `${rows.map((row) => row.join(',')).join('\n')}\n`;
}

/** Rows as RecordIO-framed protobuf records (as the SageMaker SDK's record_set writes them). */
export function toRecordIO(rows: readonly number[][]): Buffer {
  return encodeDenseRecords({
    rows: rows.length,
    dim: rows[0]!.length,
    values: Float32Array.from(rows.flat()),
  });
}

/** Creates a FIFO (mkfifo) for a Pipe-mode channel epoch. */
export async function makeFifo(file: string): Promise<void> {
  await mustRun('mkfifo', ['-m', '0666', file]);
}

/**
 * Writes bytes into a FIFO once the container opens it for reading, then closes it (EOF). Polls a
 * non-blocking open (ENXIO while no reader), so a container that exits without reading fails the
 * test with its logs instead of blocking it.
 */
export async function feedFifo(file: string, bytes: Buffer | string, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const probe = await open(file, constants.O_WRONLY | constants.O_NONBLOCK);
      // A reader is there: a blocking open now returns at once, and blocking writes are simple.
      // Close the probe only after that open: with no writer left in between, the reader sees EOF.
      const stream = createWriteStream(file);
      await once(stream, 'open');
      await probe.close();
      stream.end(bytes);
      await once(stream, 'close');
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    if (attempt % 20 === 0 && (await docker('inspect', '-f', '{{.State.Running}}', id)).trim() !== 'true') {
      throw new Error(`the container exited without opening ${file}; logs:\n${await logsOf(id)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
