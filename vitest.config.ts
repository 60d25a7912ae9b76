import { defineConfig } from 'vitest/config';
import { INTEGRATION_TESTS } from './vitest.integration.config.js';

/** Unit tests (`npm test`): no Docker, no Python packages; the process-heavy files are integration tests. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'algorithms/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['test/system/**', 'node_modules/**', 'dist/**', ...INTEGRATION_TESTS],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file's own TMPDIR, deleted when the file ends.
    setupFiles: ['test/setup/temp-dir.ts'],
    pool: 'forks',
  },
});
