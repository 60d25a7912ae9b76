import { defineConfig } from 'vitest/config';

/** System tests: real Docker engine, real moto_server, real browsers. Started by .ci/run. */
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    // Starts Docker and builds the base and smkit images once for every system test file.
    globalSetup: ['test/system/docker-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    // Each test file's own TMPDIR, deleted when the file ends.
    setupFiles: ['test/setup/temp-dir.ts'],
    pool: 'forks',
    fileParallelism: false,
  },
});
