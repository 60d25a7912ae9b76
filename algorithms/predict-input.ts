import type { RecordBatch } from '../src/io/records.js';
import { takeFiniteMark } from '../src/io/finite-mark.js';
import { BadRequest } from '../src/util/errors.js';

/**
 * Checks that a request batch fits a model: `featureDim` values per record, all finite.
 * Throws a 400 naming the record and feature, so the caller learns what to fix. Values marked finite
 * (by the serving validator that just scanned them, `src/io/finite-mark.ts`) are not scanned again.
 */
export function assertPredictable(batch: RecordBatch, featureDim: number): void {
  if (batch.dim !== featureDim) {
    throw new BadRequest(
      `each record must have ${featureDim} features (the model's feature_dim), got ${batch.dim}`,
    );
  }
  const n = batch.rows * batch.dim;
  if (takeFiniteMark(batch.values) && n <= batch.values.length) return;
  for (let i = 0; i < n; i++) {
    const value = batch.values[i]!;
    if (value - value !== 0) {
      throw new BadRequest(
        `record ${Math.floor(i / batch.dim) + 1} has ${value} in feature ${(i % batch.dim) + 1}: send finite numbers`,
      );
    }
  }
}
