/**
 * The floor of the serving benchmark: the same request bodies through the tightest loop this machine
 * allows, with no HTTP, no negotiation and no validation: a hand-written digit loop (or a byte copy for
 * RecordIO and NPY) into one Float32Array, the nearest of k centroids, and the JSON answer smkit gives
 * written into one preallocated buffer. Rows per CPU-second of one thread.
 *
 * Usage (standalone): node dist/bench/floor.js [--rows 1000] [--bodies csv,json,recordio]
 */
import { fileURLToPath } from 'node:url';
import { type BodyKind, encodeBody, parseBodyKinds } from './bodies.js';

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Decimal numbers in `bytes` (anything else separates them) into `out`; returns how many. The first 9
 * digits accumulate in int32 (no float multiply-add chain per digit), then mantissa / 10^scale.
 */
function parseDigits(bytes: Uint8Array, start: number, out: Float32Array): number {
  const end = bytes.length;
  let n = 0;
  let p = start;
  while (p < end) {
    let ch = bytes[p]! | 0;
    if (ch !== 45 && (ch - 48) >>> 0 > 9) {
      p++;
      continue;
    }
    const negative = ch === 45;
    if (negative) ch = bytes[++p]! | 0;
    let mantissa = 0;
    let digits = 0;
    let d = (ch - 48) | 0;
    while (d >>> 0 <= 9 && digits < 9) {
      mantissa = (mantissa * 10 + d) | 0;
      digits++;
      d = ((bytes[++p]! | 0) - 48) | 0;
    }
    let value = mantissa;
    while (d >>> 0 <= 9) {
      value = value * 10 + d;
      d = ((bytes[++p]! | 0) - 48) | 0;
    }
    let scale = 0;
    if (d === 46 - 48) {
      d = ((bytes[++p]! | 0) - 48) | 0;
      while (d >>> 0 <= 9) {
        value = value * 10 + d;
        scale++;
        d = ((bytes[++p]! | 0) - 48) | 0;
      }
    }
    if (scale) value /= POW10[scale]!;
    out[n++] = negative ? -value : value;
  }
  return n;
}

/** RecordIO dense records: each record's float32 payload ends the record; copied in one call each. */
function copyRecords(bytes: Uint8Array, dim: number, out: Float32Array): number {
  const target = new Uint8Array(out.buffer);
  let p = 0;
  let rows = 0;
  while (p + 8 <= bytes.length) {
    const length = bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16);
    const payloadEnd = p + 8 + length;
    target.set(bytes.subarray(payloadEnd - dim * 4, payloadEnd), rows * dim * 4);
    rows++;
    p = p + 8 + ((length + 3) & ~3);
  }
  return rows * dim;
}

/** NPY float32: the data after the header, copied in one call. */
function copyNpy(bytes: Uint8Array, out: Float32Array): number {
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  const data = bytes.subarray(10 + headerLength);
  new Uint8Array(out.buffer).set(data);
  return data.length / 4;
}

const HEAD = Buffer.from('{"predictions": [');
const FIRST_ROW = Buffer.from('{"closest_cluster": ');
const NEXT_ROW = Buffer.from(', {"closest_cluster": ');
const DISTANCE = Buffer.from('.0, "distance_to_cluster": ');

function copy(piece: Uint8Array, out: Uint8Array, at: number): number {
  for (let i = 0; i < piece.length; i++) out[at + i] = piece[i]!;
  return at + piece.length;
}

/** Writes `{"predictions": [{"closest_cluster": c.0, "distance_to_cluster": d}, ...]}` into `out`. */
function answer(labels: Int32Array, distances: Float32Array, rows: number, out: Buffer): number {
  let at = copy(HEAD, out, 0);
  for (let r = 0; r < rows; r++) {
    at = copy(r ? NEXT_ROW : FIRST_ROW, out, at);
    let label = labels[r]!;
    if (label >= 10) {
      out[at++] = 48 + Math.floor(label / 10);
      label %= 10;
    }
    out[at++] = 48 + label;
    at = copy(DISTANCE, out, at);
    const text = String(distances[r]);
    for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
    out[at++] = 0x7d;
  }
  out[at++] = 0x5d;
  out[at++] = 0x7d;
  return at;
}

/** What `floorRequest` works in, allocated once (`floorScratch`). */
export interface FloorScratch {
  readonly values: Float32Array;
  readonly labels: Int32Array;
  readonly distances: Float32Array;
  readonly answer: Buffer;
  /** One row as doubles (each float32 widened once, not once per centroid). */
  readonly row: Float64Array;
  /** The centroids in blocks of 4, interleaved by feature: block b, feature t, centroid j at (b*dim+t)*4+j. */
  readonly blocks: Float64Array;
  /** ||c||^2 per centroid, padded to whole blocks with +Infinity (never the nearest). */
  readonly norms: Float64Array;
}

/** The scratch of `floorRequest` for bodies of up to `rows` rows. */
export function floorScratch(rows: number, centroids: Float32Array, k: number, dim: number): FloorScratch {
  const padded = Math.ceil(k / 4) * 4;
  const blocks = new Float64Array(padded * dim);
  const norms = new Float64Array(padded).fill(Number.POSITIVE_INFINITY);
  for (let c = 0; c < k; c++) {
    let sum = 0;
    for (let t = 0; t < dim; t++) {
      const v = centroids[c * dim + t]!;
      blocks[(Math.floor(c / 4) * dim + t) * 4 + (c % 4)] = v;
      sum += v * v;
    }
    norms[c] = sum;
  }
  return {
    values: new Float32Array(rows * dim),
    labels: new Int32Array(rows),
    distances: new Float32Array(rows),
    answer: Buffer.alloc(rows * 80 + 64),
    row: new Float64Array(dim),
    blocks,
    norms,
  };
}

/**
 * One request through the floor: parse, assign, encode. Returns the answer's length. The nearest
 * centroid by ||c||^2 - 2 x.c, four centroids per pass over the row (four independent accumulators).
 */
export function floorRequest(kind: BodyKind, body: Uint8Array, dim: number, scratch: FloorScratch): number {
  const { values, labels, distances, row, blocks, norms } = scratch;
  const count =
    kind === 'recordio'
      ? copyRecords(body, dim, values)
      : kind === 'npy'
        ? copyNpy(body, values)
        : parseDigits(body, 0, values);
  const rows = count / dim;
  const padded = norms.length;
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let xx = 0;
    for (let t = 0; t < dim; t++) {
      const v = values[base + t]!;
      row[t] = v;
      xx += v * v;
    }
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let b = 0; b < padded; b += 4) {
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      let o = b * dim;
      for (let t = 0; t < dim; t++) {
        const v = row[t]!;
        d0 += v * blocks[o]!;
        d1 += v * blocks[o + 1]!;
        d2 += v * blocks[o + 2]!;
        d3 += v * blocks[o + 3]!;
        o += 4;
      }
      let distance = norms[b]! - 2 * d0;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = b;
      }
      distance = norms[b + 1]! - 2 * d1;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = b + 1;
      }
      distance = norms[b + 2]! - 2 * d2;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = b + 2;
      }
      distance = norms[b + 3]! - 2 * d3;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = b + 3;
      }
    }
    labels[r] = best;
    distances[r] = Math.sqrt(Math.max(0, xx + bestDistance));
  }
  return answer(labels, distances, rows, scratch.answer);
}

/** Rows per CPU-second of `floorRequest` on `body` (`rows` rows), measured for about `seconds` of CPU. */
export function floorRowsPerCpuSecond(
  kind: BodyKind,
  body: Uint8Array,
  rows: number,
  centroids: Float32Array,
  k: number,
  dim: number,
  seconds = 1,
): number {
  const scratch = floorScratch(rows, centroids, k, dim);
  for (let i = 0; i < 20; i++) floorRequest(kind, body, dim, scratch);
  const start = process.cpuUsage();
  let requests = 0;
  let used = 0;
  while (used < seconds * 1e6) {
    for (let i = 0; i < 10; i++) floorRequest(kind, body, dim, scratch);
    requests += 10;
    const now = process.cpuUsage(start);
    used = now.user + now.system;
  }
  return (requests * rows) / (used / 1e6);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = (name: string) => process.argv.indexOf(`--${name}`);
  const rowCount = at('rows') > 0 ? Number(process.argv[at('rows') + 1]) : 1000;
  const kinds = parseBodyKinds(at('bodies') > 0 ? process.argv[at('bodies') + 1]! : 'csv,json,recordio');
  const dim = 50;
  const k = 10;
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const centroids = Float32Array.from({ length: k * dim }, () => random() * 20 - 10);
  const rows = Array.from({ length: rowCount }, () =>
    Array.from({ length: dim }, () => Number((random() * 20 - 10).toFixed(4))),
  );
  for (const kind of kinds) {
    const rate = floorRowsPerCpuSecond(kind, encodeBody(kind, rows), rowCount, centroids, k, dim);
    console.log(`floor ${kind.padEnd(9)} ${(rate / 1e6).toFixed(2)} M rows per CPU-second`);
  }
}
