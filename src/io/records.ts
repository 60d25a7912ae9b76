/**
 * A batch of dense records: `rows` x `dim` float32 values in row-major order.
 * Channel readers and request decoders both produce these; algorithms and predictors consume them.
 */
export interface RecordBatch {
  readonly rows: number;
  readonly dim: number;
  /** Row-major features, length rows * dim. */
  readonly values: Float32Array;
  /** Optional labels, `rows` x `labelDim` (CSV `label_size`, RecordIO `label`). */
  readonly labels?: Float32Array;
  readonly labelDim?: number;
}

/** Where a record came from, for error messages: "train/part-1.csv line 17", "record 4 of x.pbr". */
export interface RecordSource {
  readonly file: string;
  /** 1-based line (CSV) or record (RecordIO) number. */
  readonly index: number;
}

/** A stream of record batches, read once. */
export type RecordStream = AsyncIterable<RecordBatch>;

/** Copies the first `rows` rows of a batch into a new, exactly sized batch. */
export function sliceBatch(batch: RecordBatch, start: number, end: number): RecordBatch {
  const labelDim = batch.labelDim ?? 0;
  return {
    rows: end - start,
    dim: batch.dim,
    values: batch.values.subarray(start * batch.dim, end * batch.dim),
    ...(batch.labels && labelDim
      ? { labels: batch.labels.subarray(start * labelDim, end * labelDim), labelDim }
      : {}),
  };
}
