import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** smkit's version from its package.json (found upward from this module, in a checkout or dist/). */
export function smkitVersion(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'smkit' && pkg.version) {
        cached = pkg.version;
        return cached;
      }
    } catch {
      // no package.json here: keep going up
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      cached = 'unknown';
      return cached;
    }
    dir = parent;
  }
}
