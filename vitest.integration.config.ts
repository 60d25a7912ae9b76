import { defineConfig } from 'vitest/config';

/**
 * The unit runner's test files that start real processes (the smkit CLI, cluster workers, user
 * training scripts, whole local jobs) or send 10,000 requests: most of what `vitest run` took. They
 * run in their own stage, `npm run test:integration` (.ci/run runs it right after `npm test`), so
 * that `npm test` stays quick. Needs no Docker and no Python packages.
 */
export const INTEGRATION_TESTS = [
  // The docs' shell blocks train and serve models; compiling their TypeScript blocks type-checks the sources (a minute).
  'test/docs/shell-blocks.test.ts',
  'test/docs/ts-blocks.test.ts',
  'test/local/cli.test.ts',
  'test/local/demo.test.ts',
  'test/local/local-endpoint.test.ts',
  'test/local/train-job.test.ts',
  'test/local/transform-serve.test.ts',
  'test/serve/fuzz.test.ts',
  'test/serve/listen.test.ts',
  'test/train/builtin-e2e.test.ts',
  'test/train/builtin.test.ts',
  'test/train/script-mode.test.ts',
];

export default defineConfig({
  test: {
    include: INTEGRATION_TESTS,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each test file's own TMPDIR, deleted when the file ends.
    setupFiles: ['test/setup/temp-dir.ts'],
    pool: 'forks',
  },
});
