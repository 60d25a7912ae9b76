/**
 * Skipping a test because this host cannot run it, in a way CI reports: the reason goes to Vitest's
 * own skip note and to the test's `meta.skipReason`, which the JSON reporter keeps, so
 * scripts/ci-summary.mjs can list every check this host did not run and why.
 */
import type { TestContext } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** Why this host did not run the test (set by {@link skipBecause}). */
    skipReason?: string;
  }
}

/** Skips the running test, saying why (never returns). */
export function skipBecause(ctx: TestContext, reason: string): never {
  ctx.task.meta.skipReason = reason;
  ctx.skip(reason);
  throw new Error('unreachable: ctx.skip throws');
}
