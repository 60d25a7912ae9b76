import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | undefined | null = null;

/** V8's `gc` function, taken from a fresh context with --expose-gc set only for that moment. */
function gcFunction(): Collect | undefined {
  if (collect !== null) return collect;
  collect = undefined;
  // Run with --expose-gc already: use that one, and leave the flag as the user set it.
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') {
    collect = exposed as Collect;
    return collect;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    try {
      const found: unknown = vm.runInNewContext('gc');
      if (typeof found === 'function') collect = found as Collect;
    } finally {
      // Contexts and threads made later (user code, worker threads) do not see a global `gc`.
      v8.setFlagsFromString('--no-expose-gc');
    }
  } catch {
    collect = undefined;
  }
  return collect;
}

/**
 * Body bytes from which a scavenge after (or before) a request pays for itself: one costs ~50 us, so
 * after each of many small requests it would be a tax, and their garbage is collected in the usual way.
 */
export const YOUNG_GARBAGE_MIN_BYTES = 1024 * 1024;

/**
 * Runs a minor GC (a scavenge of V8's young generation, about a millisecond) once a megabyte body is
 * done with. Such bodies live outside the JS heap behind JS handles so small that the young generation
 * does not fill and scavenge for hundreds of them: node:http's 64 KiB copies of every body piece it
 * reads, and the bodies moved to a pool thread, piled up as 30 to 60 MiB of dead memory per process
 * until external-memory pressure forced a full GC. Does nothing if V8 does not hand out its `gc`.
 */
export function collectYoungGarbage(): void {
  gcFunction()?.({ type: 'minor' });
}
