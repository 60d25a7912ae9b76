/**
 * `smkit/io`: SageMaker's data formats without a server or a training job: CSV, RecordIO and
 * RecordIO-protobuf (the `record_set()` format), NPY, MXNet NDArray lists (`model_algo-1`), media types
 * and whole HTTP bodies.
 *
 * ```ts
 * import { encodeNDArrayList, parseCsvBody } from 'smkit/io';
 * const batch = parseCsvBody(Buffer.from('1,2\n3,4\n')); // { rows: 2, dim: 2, values: [1, 2, 3, 4] }
 * ```
 */
export { parseCsvBody, type CsvBodyOptions } from './csv.js';
export { readBody, type ReadBodyOptions } from './http-body.js';
export { parseMediaType, type MediaType } from './media-type.js';
export { decodeNDArrayList, encodeNDArrayList, type NDArray, type NDArrayList } from './mxnet-ndarray.js';
export { decodeNpy, encodeNpy, parseNpyBody, type NpyArray, type NpyDtype } from './npy.js';
export { encodeRecordIO, encodeRecordIOs, RECORDIO_MAGIC, splitRecordIO } from './recordio.js';
export {
  AIALGS_DATA_SCHEMA,
  decodeRecord,
  encodeDenseRecords,
  encodeLabelRecords,
  encodeRecord,
  parseRecordIOProtobufBody,
  RECORDIO_PROTOBUF,
  type DecodedRecord,
  type RecordType,
  type Tensor,
  type TensorInput,
} from './recordio-protobuf.js';
export type { RecordBatch } from './records.js';
