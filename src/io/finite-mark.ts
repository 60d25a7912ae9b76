/**
 * A mark on a Float32Array that says every one of its values has been seen to be finite, so a request's
 * values are scanned once, not by each check in turn (the serving validator, then the algorithm's
 * `assertPredictable`). The mark is on the array object, not its buffer: the recycler of request
 * buffers hands out a new view per request, so a reused buffer never carries an old request's mark.
 * Whoever marks must not write the array afterwards; `takeFiniteMark` removes the mark.
 */

const finite = new WeakSet<Float32Array>();

/** Marks `values` as holding only finite numbers (call only after looking at every one of them). */
export function markFinite(values: Float32Array): void {
  finite.add(values);
}

/** True when `values` carries the mark (left in place). */
export function isMarkedFinite(values: Float32Array): boolean {
  return finite.has(values);
}

/** True when `values` carried the mark, which is removed: the next check scans again. */
export function takeFiniteMark(values: Float32Array): boolean {
  return finite.delete(values);
}
