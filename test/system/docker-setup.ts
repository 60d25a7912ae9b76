/**
 * Vitest global setup of the system tests: starts the Docker engine, builds the registry-free base
 * and the smkit image once (printing `docker history`), and removes the tests' containers and
 * dangling images afterwards (vfs storage copies every layer: keep the disk lean).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSmkitImage, docker, run } from '../../scripts/docker-image.js';
import { BASE_IMAGE, CONTAINER_LABEL, SMKIT_IMAGE } from './docker-names.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  const history = await buildSmkitImage({ root, tag: SMKIT_IMAGE, baseTag: BASE_IMAGE });
  process.stdout.write(
    `\n${SMKIT_IMAGE} built in ${Math.round((Date.now() - started) / 1000)} s; docker history:\n${history}\n`,
  );
  return async () => {
    const ids = (await docker('ps', '-aq', '--filter', `label=${CONTAINER_LABEL}`))
      .trim()
      .split('\n')
      .filter(Boolean);
    if (ids.length > 0) await run('docker', ['rm', '-f', '-v', ...ids]);
    await run('docker', ['image', 'prune', '-f']);
  };
}
