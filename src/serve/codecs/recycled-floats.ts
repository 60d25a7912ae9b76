/**
 * Float32 buffers for decoded request bodies, handed back once a request's model call is done and
 * reused by later requests. A 1,000 x 50 body decodes into 200 KB: allocated fresh per request, those
 * buffers are external memory that drives V8 into a full mark-compact every few requests (whose
 * helper threads cost more CPU than the request itself on a busy 2-core machine). One recycler per
 * thread (each pool thread imports its own copy of this module).
 */

/** Buffers kept for reuse at most, and the largest kept (bigger ones are left to the GC). */
const KEEP = 4;
const KEEP_MAX_BYTES = 32 * 1024 * 1024;

const free: ArrayBuffer[] = [];
/** Arrays handed out and not yet given back, by the buffer they view. */
const lent = new WeakSet<ArrayBuffer>();

/**
 * A Float32Array of `length` values, not zeroed (its caller writes every value it reads): a view of
 * the start of a recycled buffer when one is big enough.
 */
export function takeFloats(length: number): Float32Array {
  const bytes = length * 4;
  for (let i = free.length - 1; i >= 0; i--) {
    const buffer = free[i]!;
    if (buffer.byteLength >= bytes) {
      free.splice(i, 1);
      lent.add(buffer);
      return new Float32Array(buffer, 0, length);
    }
  }
  // Room for slightly larger bodies later: a batch transform's mini-batches vary by a few rows, and a
  // buffer sized to each new largest one left every thread keeping KEEP written buffers of about the
  // same size (4 x 3.4 MB per thread at 6 MB CSV payloads). Pages past what is written stay untouched.
  const buffer = new ArrayBuffer(
    bytes > KEEP_MAX_BYTES ? bytes : Math.min(bytes + (bytes >>> 3), KEEP_MAX_BYTES),
  );
  lent.add(buffer);
  return new Float32Array(buffer, 0, length);
}

/**
 * Bodies below this size decode into views of a shared slab, never given back: for a row or a few,
 * finding, lending and taking back a recycled buffer costs more than the view.
 */
export const RECYCLE_MIN_BODY_BYTES = 4 * 1024;

/** Small bodies' arrays are views cut one after another from a shared slab (as node pools small Buffers). */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/**
 * A Float32Array of `length` values, not zeroed, cut from the slab: a view costs a small heap object,
 * where an array of its own is a backing store outside V8's heap that each collection must sweep.
 * The slab lives as long as any view of it; a full one is left to them and a new one started.
 */
function slabFloats(length: number): Float32Array {
  const bytes = length * 4;
  if (bytes > SLAB_BYTES / 8) return new Float32Array(length);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const view = new Float32Array(slab, slabUsed, length);
  // 8-byte steps keep every view aligned for any element type a consumer may view it as.
  slabUsed += (bytes + 7) & ~7;
  return view;
}

/** The allocator for a body's decoded values: `takeFloats` from `RECYCLE_MIN_BODY_BYTES` on, else a slab's view. */
export function floatsFor(body: Uint8Array): (length: number) => Float32Array {
  return body.length < RECYCLE_MIN_BODY_BYTES ? slabFloats : takeFloats;
}

/** True when `array` came from `takeFloats` and has not been given back. */
export function isTaken(array: Float32Array): boolean {
  return lent.has(array.buffer as ArrayBuffer);
}

/**
 * Gives back an array from `takeFloats` once nothing reads it any more (anything else is ignored, and
 * so is a second give). Keeps the largest few buffers.
 */
export function giveFloats(array: Float32Array): void {
  const buffer = array.buffer as ArrayBuffer;
  if (!lent.has(buffer)) return;
  lent.delete(buffer);
  if (buffer.byteLength > KEEP_MAX_BYTES) return;
  if (free.length < KEEP) {
    free.push(buffer);
    return;
  }
  let smallest = 0;
  for (let i = 1; i < free.length; i++) if (free[i]!.byteLength < free[smallest]!.byteLength) smallest = i;
  if (free[smallest]!.byteLength < buffer.byteLength) free[smallest] = buffer;
}
