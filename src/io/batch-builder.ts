import { InputError } from '../util/errors.js';
import { type RecordBatch, sliceBatch } from './records.js';

/** Options of a BatchBuilder. */
export interface BatchBuilderOptions {
  /** Rows per batch; every batch but the last has exactly this many. */
  readonly batchSize: number;
  /** Features per row. */
  readonly dim: number;
  /** Labels per row: a fixed width (CSV `label_size`), or 'auto' to take it from the first row. */
  readonly labelDim: number | 'auto';
  /** Where a batch's arrays come from (default `new Float32Array`): a pool that recycles them. */
  readonly allocate?: (length: number) => Float32Array;
}

const fresh = (length: number) => new Float32Array(length);

/**
 * Fills fixed-size batches row by row. Parsers write a row's features straight into `values` at
 * `rowOffset()` (and labels into `labels`), then call `commitRow`. Full batches queue up until `take`;
 * each batch owns fresh arrays, so consumers may keep them.
 */
export class BatchBuilder {
  readonly batchSize: number;
  readonly dim: number;
  /** Width of the labels; -1 while 'auto' and no row has been seen. */
  labelDim: number;
  values: Float32Array;
  /** The bytes of `values`, for copying little-endian float32 payloads in one call. */
  valueBytes: Uint8Array;
  labels: Float32Array | undefined;
  /** Rows filled in the current batch. */
  rows = 0;
  /** Rows committed in total. */
  total = 0;
  private ready: RecordBatch[] = [];
  /** Set by `flushLast`. */
  private closed = false;
  private readonly allocate: (length: number) => Float32Array;

  constructor(options: BatchBuilderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new InputError(`batch size must be an integer >= 1 (got ${options.batchSize})`);
    }
    if (!Number.isInteger(options.dim) || options.dim < 1) {
      throw new InputError(`feature dimension must be an integer >= 1 (got ${options.dim})`);
    }
    this.batchSize = options.batchSize;
    this.dim = options.dim;
    this.allocate = options.allocate ?? fresh;
    this.labelDim = options.labelDim === 'auto' ? -1 : options.labelDim;
    this.values = this.allocate(this.batchSize * this.dim);
    this.valueBytes = new Uint8Array(this.values.buffer, this.values.byteOffset, this.values.byteLength);
    this.labels = this.labelDim > 0 ? this.allocate(this.batchSize * this.labelDim) : undefined;
  }

  /** Index in `values` where the current row starts. */
  rowOffset(): number {
    return this.rows * this.dim;
  }

  /** Fixes an 'auto' label width (from the first row); later rows must match. */
  setLabelDim(width: number): void {
    this.labelDim = width;
    this.labels = width > 0 ? this.allocate(this.batchSize * width) : undefined;
  }

  /** The current row is complete. */
  commitRow(): void {
    if (this.closed) throw new Error('BatchBuilder: no rows after flushLast()');
    this.rows += 1;
    this.total += 1;
    if (this.rows === this.batchSize) this.emit(this.batchSize);
  }

  /**
   * Appends `rows` whole rows at once (row-major `values`, and `labels` when rows have labels), as
   * if each had been written and committed: batches fill and queue exactly as row by row.
   */
  appendRows(values: Float32Array, labels: Float32Array | undefined, rows: number): void {
    const labelDim = Math.max(this.labelDim, 0);
    let at = 0;
    while (at < rows) {
      const take = Math.min(rows - at, this.batchSize - this.rows);
      this.values.set(values.subarray(at * this.dim, (at + take) * this.dim), this.rows * this.dim);
      if (this.labels && labels) {
        this.labels.set(labels.subarray(at * labelDim, (at + take) * labelDim), this.rows * labelDim);
      }
      this.rows += take;
      this.total += take;
      at += take;
      if (this.rows === this.batchSize) this.emit(this.batchSize);
    }
  }

  /** Queues the current partial batch (at the end of the input). */
  flush(): void {
    if (this.rows > 0) this.emit(this.rows);
  }

  /**
   * `flush` for a builder that takes no more rows (a whole request body): no arrays are allocated for
   * a next batch (a 1,000 x 50 body would zero 200 KB for nothing).
   */
  flushLast(): void {
    this.closed = true;
    if (this.rows > 0) this.emit(this.rows);
  }

  /** Returns and forgets the batches completed so far. */
  take(): RecordBatch[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /** Whether batches are waiting to be taken. */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  private emit(rows: number): void {
    const labelDim = Math.max(this.labelDim, 0);
    const batch: RecordBatch = {
      rows: this.batchSize,
      dim: this.dim,
      values: this.values,
      ...(this.labels ? { labels: this.labels, labelDim } : {}),
    };
    this.ready.push(rows === this.batchSize ? batch : sliceBatch(batch, 0, rows));
    this.rows = 0;
    if (this.closed) {
      this.values = new Float32Array(0);
      this.valueBytes = new Uint8Array(0);
      if (this.labels) this.labels = new Float32Array(0);
      return;
    }
    this.values = this.allocate(this.batchSize * this.dim);
    this.valueBytes = new Uint8Array(this.values.buffer, this.values.byteOffset, this.values.byteLength);
    if (this.labels) this.labels = this.allocate(this.batchSize * labelDim);
  }
}

/** A push parser that writes the rows it decodes into a BatchBuilder; keeps no reference to a chunk after `write`. */
export interface ChunkParser {
  write(chunk: Buffer): void;
  finish(): void;
}

/**
 * Feeds every chunk of `source` through `parser` and yields the batches `builder` completes,
 * then the last, possibly smaller, batch.
 */
export async function* streamBatches(
  source: AsyncIterable<Buffer>,
  parser: ChunkParser,
  builder: BatchBuilder,
): AsyncGenerator<RecordBatch> {
  for await (const chunk of source) {
    parser.write(chunk);
    yield* builder.take();
  }
  parser.finish();
  builder.flush();
  yield* builder.take();
}
