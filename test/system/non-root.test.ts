/**
 * The non-root option README documents: the image built with `--build-arg SMKIT_USER=node`. The build
 * reuses every layer of the default image (only the image config changes); the image then trains as
 * uid 1000 into a job directory that user owns, and serves the model it wrote from a read-only mount
 * with a read-only root filesystem plus a /tmp tmpfs.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSmkitImage, docker, mustRun } from '../../scripts/docker-image.js';
import { decodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { formatFloat } from '../../src/serve/codecs/number-format.js';
import { createJobTree } from '../train/job-tree.js';
import {
  CENTERS,
  clusteredRows,
  freePort,
  logsOf,
  runContainer,
  startContainer,
  toCsv,
  waitForExit,
  waitForPing,
} from './container-helpers.js';
import { BASE_IMAGE, SMKIT_IMAGE, SMKIT_NONROOT_IMAGE } from './docker-names.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];

beforeAll(async () => {
  await buildSmkitImage({
    root,
    tag: SMKIT_NONROOT_IMAGE,
    baseTag: BASE_IMAGE,
    buildArgs: { SMKIT_USER: 'node' },
  });
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The effective uid of a running container's PID 1, read from the host's /proc. */
async function uidOfPid1(id: string): Promise<number> {
  const pid = (await docker('inspect', '--format', '{{.State.Pid}}', id)).trim();
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)![1]);
}

/** Nearest centroid (index, Euclidean distance) of `row` among k x d row-major `centroids`. */
function nearest(centroids: Float32Array | Float64Array, row: readonly number[]): [number, number] {
  const d = row.length;
  let best: [number, number] = [-1, Number.POSITIVE_INFINITY];
  for (let c = 0; c < centroids.length / d; c++) {
    const distance = Math.hypot(...row.map((x, j) => x - centroids[c * d + j]!));
    if (distance < best[1]) best = [c, distance];
  }
  return best;
}

describe('--build-arg SMKIT_USER=node', () => {
  test('adds no filesystem layer to the default image: same layers, same entrypoint, User node', async () => {
    const inspect = async (image: string) =>
      JSON.parse(await docker('image', 'inspect', '--format', '{{json .}}', image)) as {
        RootFS: { Layers: string[] };
        Config: { User: string; Entrypoint: string[] };
      };
    const [rootImage, nonRoot] = await Promise.all([inspect(SMKIT_IMAGE), inspect(SMKIT_NONROOT_IMAGE)]);
    expect(nonRoot.RootFS.Layers).toEqual(rootImage.RootFS.Layers);
    expect(nonRoot.Config.Entrypoint).toEqual(rootImage.Config.Entrypoint);
    expect([rootImage.Config.User, nonRoot.Config.User]).toEqual(['root', 'node']);
  });

  test('train k-means as uid 1000 into its own job dir, then serve that model read-only with --read-only --tmpfs /tmp', async () => {
    const paths = await createJobTree({
      hyperparameters: { smkit_algorithm: 'kmeans', k: '3', feature_dim: '4' },
      inputDataConfig: {
        train: { ContentType: 'text/csv', TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated' },
      },
      resourceConfig: { current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' },
      data: { 'train/data.csv': toCsv(clusteredRows()) },
    });
    dirs.push(paths.base);
    // The job directory must be writable by the image's user (README, "The container image").
    await mustRun('chown', ['-R', '1000:1000', paths.base]);
    const readOnlyRoot = ['--read-only', '--tmpfs', '/tmp'];

    const trained = await runContainer(
      ['--network', 'none', ...readOnlyRoot, '-v', `${paths.base}:/opt/ml`],
      ['train'],
      SMKIT_NONROOT_IMAGE,
    );
    expect(trained.code, trained.stdout + trained.stderr).toBe(0);
    const modelFile = path.join(paths.model, 'model_algo-1');
    expect((await stat(modelFile)).uid).toBe(1000);
    const [centroids] = decodeNDArrayList(await readFile(modelFile)).arrays;
    expect(centroids!.shape).toEqual([3, 4]);

    const port = await freePort();
    const id = await startContainer(
      [
        '--network',
        'host',
        ...readOnlyRoot,
        '-v',
        `${paths.model}:/opt/ml/model:ro`,
        '-e',
        `SAGEMAKER_BIND_TO_PORT=${port}`,
      ],
      ['serve'],
      SMKIT_NONROOT_IMAGE,
    );
    await waitForPing(port, id);
    expect(await uidOfPid1(id)).toBe(1000);
    const url = `http://127.0.0.1:${port}`;
    const ping = await fetch(`${url}/ping`);
    expect([ping.status, await ping.text()]).toEqual([200, '']);

    const rows = CENTERS.map((center) => [...center]);
    const reply = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', Accept: 'application/json' },
      body: toCsv(rows),
    });
    expect([reply.status, reply.headers.get('content-type')], await logsOf(id)).toEqual([
      200,
      'application/json',
    ]);
    const expected = rows.map((row) => nearest(centroids!.data, row));
    // Three different clusters, each center within the jitter (±0.5 per feature) of its centroid.
    expect(new Set(expected.map(([cluster]) => cluster)).size).toBe(3);
    const text = await reply.text();
    const body = JSON.parse(text) as {
      predictions: { closest_cluster: number; distance_to_cluster: number }[];
    };
    const layout = body.predictions.map(
      (p) =>
        `{"closest_cluster": ${formatFloat(p.closest_cluster)}, "distance_to_cluster": ${formatFloat(p.distance_to_cluster)}}`,
    );
    expect(text).toBe(`{"predictions": [${layout.join(', ')}]}`);
    expect(body).toEqual({
      predictions: expected.map(([cluster, distance]) => ({
        closest_cluster: cluster,
        distance_to_cluster: expect.closeTo(distance, 4),
      })),
    });
    await docker('stop', id);
    expect(await waitForExit(id)).toBe(0);
  });
});
