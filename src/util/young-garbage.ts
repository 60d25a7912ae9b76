import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | undefined | null = null;

/** V8's `gc` function, taken from a fresh context with --expose-gc set only for that moment. */
function gcFunction(): Collect | undefined {
  if (collect !== null) return collect;
  collect = undefined;
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
 * Runs a minor GC (a scavenge of V8's young generation, about a millisecond) after a megabyte body went
 * through node:http. Node copies every body piece it reads into a buffer of its own (64 KiB each), which
 * is garbage as soon as the body is assembled, but whose JS handles are so small that the young generation
 * does not fill and scavenge for hundreds of bodies: a transform's two processes held 30 to 60 MiB each
 * of dead 64 KiB pieces until external-memory pressure forced a full GC. Scavenging once per large body
 * returns them right away. Does nothing if V8 does not hand out its `gc` function.
 */
export function collectYoungGarbage(): void {
  gcFunction()?.({ type: 'minor' });
}
