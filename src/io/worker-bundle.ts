import { fileURLToPath } from 'node:url';

let bundles = 0;

/**
 * Bundles TypeScript worker-thread entry points with esbuild (a dependency of tsx) into a new folder
 * under node_modules/.cache/smkit and returns that folder, holding `<entry name>.mjs` for each entry.
 * From sources (tests, tsx) Node 20 worker threads get no TypeScript loader; the built package never
 * needs this. The caller removes the folder when its workers are done.
 */
export async function bundleWorkerEntries(
  entryPoints: Readonly<Record<string, string>>,
  tag: string,
): Promise<string> {
  const outdir = fileURLToPath(
    new URL(`../../node_modules/.cache/smkit/${tag}-${process.pid}-${++bundles}/`, import.meta.url),
  );
  const { build } = await import('esbuild');
  await build({
    entryPoints: { ...entryPoints },
    bundle: true,
    // Entries bundled together share their common modules through chunks, as one module graph.
    splitting: Object.keys(entryPoints).length > 1,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  return outdir;
}
