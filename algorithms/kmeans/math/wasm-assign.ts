/**
 * Nearest-center assignment in a generated WebAssembly SIMD module, bit for bit `assignJs`: every
 * squared distance is the float64 sum, in feature order, of float64 squared differences of the
 * float32 inputs, and the first center with the strictly smallest sum wins. The SIMD lanes hold
 * different (row, center) pairs, never parts of one sum, so no sum is reordered; wasm neither fuses
 * multiply-adds nor flushes subnormals. Like `assignJs`, a sum stops once it reaches its row's best
 * so far (here when every lane of a tile has, checked every few features): sums only grow (or turn
 * NaN), so a stopped sum could not have won.
 */
import {
  Code,
  F64,
  I32,
  V128,
  type WasmModule,
  compileWasm,
  instantiateWasm,
  wasmModule,
} from '../../../src/util/wasm-builder.js';
import { type Assigner, type Assignment, assignJs } from './assign.js';

const PAGE = 65_536;
/**
 * A register tile: `rows` rows by `vectors` float64x2 vectors of centers (a group of 2 x `vectors`
 * centers), one accumulator each.
 */
export interface AssignTile {
  readonly rows: number;
  readonly vectors: number;
  /** Features per unrolled step of the inner loop, after which a tile of sums may stop early. */
  readonly unroll: number;
}

/**
 * The default tile. On bench:serve's model and queries (d=50, k=10; CPU time, tiles in turn in one
 * process) 2 x 1 x 4 took 115-140 us per 1,000 rows, 2 x 1 x 8 120, 3 x 1 x 4 155-170, 4 x 1 x 4
 * 170-180, 2 x 2 x 4 180-195 (its groups of 4 pad 10 centers to 12) and a fully unrolled
 * 2 x 1 x 50 260.
 */
export const ASSIGN_TILE: AssignTile = { rows: 2, vectors: 1, unroll: 4 };

/**
 * Where the module for `dim` features keeps things (byte offsets into its memory). Rows come as
 * float64 in pieces of `pieceRows` (a multiple of the tile's rows: the padding rows of a short piece
 * are computed and not read). Centers are copied as float32 after the laid-out groups and laid out
 * by `prepare` at `centers` as groups of `group` interleaved float64 columns, [c0[t], c1[t], ...]
 * for each feature t, NaN for the padding centers of the last group (a NaN sum is never smaller).
 */
export interface AssignLayout {
  readonly dim: number;
  readonly tile: AssignTile;
  /** Centers per group: 2 x tile.vectors. */
  readonly group: number;
  readonly pieceRows: number;
  readonly points: number;
  readonly labels: number;
  readonly distances: number;
  readonly centers: number;
}

/** The memory layout for `dim` features. */
export function assignLayout(dim: number, tile: AssignTile = ASSIGN_TILE): AssignLayout {
  // About 128 KiB of float64 rows per call: they stay in the L2 cache while every center group reads them.
  const pieceRows = tile.rows * Math.max(1, Math.floor(2 ** 17 / (8 * dim * tile.rows)));
  const points = 0;
  const labels = points + pieceRows * dim * 8;
  const distances = labels + pieceRows * 4;
  const centers = Math.ceil((distances + pieceRows * 4) / 16) * 16;
  return { dim, tile, group: 2 * tile.vectors, pieceRows, points, labels, distances, centers };
}

/**
 * Where the float32 centers that were laid out are kept, after `groups` laid-out groups; the
 * centers of a call are copied right after them.
 */
function sourceOffset(layout: AssignLayout, groups: number): number {
  return layout.centers + groups * layout.group * 8 * layout.dim;
}

/**
 * `prepare(count, groups, source, force)`: unless `force` is 0 and the `count` float32 centers
 * copied in after `source` have the bits of those at `source` (a model's centers, request after
 * request), copies them to `source` and lays them out as groups at `centers`.
 */
function prepareFunction(layout: AssignLayout): Code {
  const { dim, centers, group } = layout;
  const code = new Code(4);
  const [count, groups, source, force] = [0, 1, 2, 3];
  const [c, src, dst, end, incoming] = [
    code.local(I32),
    code.local(I32),
    code.local(I32),
    code.local(I32),
    code.local(I32),
  ];
  code
    .get(count)
    .i32(4 * dim)
    .mul()
    .tee(end)
    .get(source)
    .add()
    .set(incoming);
  code.block(() => {
    code.block(() => {
      code.get(force).brIf(0);
      code.i32(0).set(c);
      // 16 bytes at a time while they fit, then 4.
      code.block(() =>
        code.loop(() => {
          code.get(c).i32(16).add().get(end).gtU().brIf(1);
          code.get(c).get(source).add().load().get(c).get(incoming).add().load().xor().anyTrue().brIf(2);
          code.get(c).i32(16).add().set(c);
          code.br(0);
        }),
      );
      code.loop(() => {
        code.get(c).get(end).ltU().eqz().brIf(2);
        code.get(c).get(source).add().loadI32().get(c).get(incoming).add().loadI32().ne().brIf(1);
        code.get(c).i32(4).add().set(c);
        code.br(0);
      });
    });
    code.i32(0).set(c);
    code.block(() =>
      code.loop(() => {
        code.get(c).get(end).ltU().eqz().brIf(1);
        code.get(c).get(source).add().get(c).get(incoming).add().loadI32().storeI32();
        code.get(c).i32(4).add().set(c);
        code.br(0);
      }),
    );
    layOut();
  });
  return code;

  /** Lays the centers at `source` out as groups. */
  function layOut() {
    code.i32(0).set(c);
    code.get(source).set(src);
    code.block(() =>
      code.loop(() => {
        code.get(c).get(groups).i32(group).mul().ltU().eqz().brIf(1);
        // dst = centers + (c / group) * 8 group dim + (c % group) * 8
        code
          .get(c)
          .i32(group)
          .divU()
          .i32(group * 8 * dim)
          .mul()
          .get(c)
          .i32(group)
          .remU()
          .i32(8)
          .mul()
          .add()
          .i32(centers)
          .add()
          .tee(dst)
          .i32(group * 8 * dim)
          .add()
          .set(end);
        const column = (value: () => void) =>
          code.loop(() => {
            code.get(dst);
            value();
            code.storeF64();
            code
              .get(dst)
              .i32(group * 8)
              .add()
              .tee(dst)
              .get(end)
              .ltU()
              .brIf(0);
          });
        code
          .get(c)
          .get(count)
          .ltU()
          .when(
            () =>
              column(() => {
                code.get(src).loadF32().promoteF32();
                code.get(src).i32(4).add().set(src);
              }),
            () => column(() => code.f64(Number.NaN)),
          );
        code.get(c).i32(1).add().set(c);
        code.br(0);
      }),
    );
  }
}

/**
 * `assign(tiles, groups)`: for each tile of rows at `points`, the nearest center and its squared
 * distance (as float32) into `labels` and `distances`. Per feature, a tile broadcasts one value of
 * each of its rows, loads its group's vectors of center values and adds into one float64x2 sum per
 * row and vector.
 */
function assignFunction(layout: AssignLayout): Code {
  const { dim, points, labels, distances, centers, group } = layout;
  const { rows: tileRows, vectors, unroll } = layout.tile;
  const rowBytes = 8 * dim;
  const code = new Code(2);
  const [tiles, groups] = [0, 1];
  const int = () => code.local(I32);
  const [pr, endR, out, pc, endC, p, q, endP, j, less] = code.localsOf(I32, 10);
  const best = Array.from({ length: tileRows }, () => code.local(F64));
  const label = Array.from({ length: tileRows }, int);
  const bestVector = Array.from({ length: tileRows }, () => code.local(V128));
  const sum = code.local(F64);
  const acc = Array.from({ length: tileRows * vectors }, () => code.local(V128));
  const x = Array.from({ length: tileRows }, () => code.local(V128));
  const y = Array.from({ length: vectors }, () => code.local(V128));
  const diff = code.local(V128);

  /** Feature `t` (relative to p and q) into the tile's sums. */
  const step = (t: number) => {
    for (let r = 0; r < tileRows; r++) {
      code
        .get(p)
        .loadSplat64(8 * t + r * rowBytes)
        .set(x[r]!);
    }
    for (let h = 0; h < vectors; h++) {
      code
        .get(q)
        .load(group * 8 * t + 16 * h)
        .set(y[h]!);
    }
    for (let r = 0; r < tileRows; r++) {
      for (let h = 0; h < vectors; h++) {
        const a = acc[vectors * r + h]!;
        code.get(a).get(x[r]!).get(y[h]!).f64x2Sub().tee(diff).get(diff).f64x2Mul().f64x2Add().set(a);
      }
    }
  };

  code.i32(points).set(pr);
  code
    .get(tiles)
    .i32(tileRows * rowBytes)
    .mul()
    .i32(points)
    .add()
    .set(endR);
  code.i32(0).set(out);
  code
    .get(groups)
    .i32(group * 8 * dim)
    .mul()
    .i32(centers)
    .add()
    .set(endC);
  code.block(() =>
    code.loop(() => {
      code.get(pr).get(endR).ltU().eqz().brIf(1);
      for (let r = 0; r < tileRows; r++) {
        code.f64(Number.POSITIVE_INFINITY).tee(best[r]!).f64x2Splat().set(bestVector[r]!);
        code.i32(0).set(label[r]!);
      }
      code.i32(0).set(j);
      code.i32(centers).set(pc);
      code.block(() =>
        code.loop(() => {
          code.get(pc).get(endC).ltU().eqz().brIf(1);
          // A group ends early (a br out of this block) once no sum of it can be smaller.
          code.block(() => {
            for (const a of acc) code.zero().set(a);
            code.get(pr).set(p);
            code.get(pc).set(q);
            const whole = Math.floor(dim / unroll);
            if (whole > 0) {
              code
                .get(pr)
                .i32(whole * unroll * 8)
                .add()
                .set(endP);
              code.loop(() => {
                for (let t = 0; t < unroll; t++) step(t);
                code
                  .get(q)
                  .i32(unroll * group * 8)
                  .add()
                  .set(q);
                // Every lane's partial sum >= its row's best: their full sums cannot be smaller.
                for (let r = 0; r < tileRows; r++) {
                  for (let h = 0; h < vectors; h++) {
                    code
                      .get(acc[vectors * r + h]!)
                      .get(bestVector[r]!)
                      .f64x2Ge();
                    if (r + h > 0) code.and();
                  }
                }
                code.allTrue64().brIf(1);
                code
                  .get(p)
                  .i32(unroll * 8)
                  .add()
                  .tee(p)
                  .get(endP)
                  .ltU()
                  .brIf(0);
              });
            }
            for (let t = 0; t < dim % unroll; t++) step(t);
            // The group's centers in order, each row keeping the first strictly smallest sum.
            for (let r = 0; r < tileRows; r++) {
              for (let lane = 0; lane < group; lane++) {
                code
                  .get(acc[vectors * r + (lane >> 1)]!)
                  .f64x2Lane(lane & 1)
                  .tee(sum)
                  .get(best[r]!)
                  .f64Lt()
                  .set(less);
                code.get(sum).get(best[r]!).get(less).select().set(best[r]!);
                code.get(j).i32(lane).add().get(label[r]!).get(less).select().set(label[r]!);
              }
              code.get(best[r]!).f64x2Splat().set(bestVector[r]!);
            }
          });
          code.get(j).i32(group).add().set(j);
          code
            .get(pc)
            .i32(group * 8 * dim)
            .add()
            .set(pc);
          code.br(0);
        }),
      );
      for (let r = 0; r < tileRows; r++) {
        code
          .get(out)
          .get(label[r]!)
          .storeI32(labels + 4 * r);
        code
          .get(out)
          .get(best[r]!)
          .f32FromF64()
          .storeF32(distances + 4 * r);
      }
      code
        .get(out)
        .i32(4 * tileRows)
        .add()
        .set(out);
      code
        .get(pr)
        .i32(tileRows * rowBytes)
        .add()
        .set(pr);
      code.br(0);
    }),
  );
  return code;
}

/** The generated module's bytes for `dim` features and its layout. */
export function assignModule(
  dim: number,
  tile: AssignTile = ASSIGN_TILE,
): { layout: AssignLayout; bytes: Uint8Array<ArrayBuffer> } {
  const layout = assignLayout(dim, tile);
  const bytes = wasmModule(Math.ceil(layout.centers / PAGE) + 1, {
    prepare: prepareFunction(layout),
    assign: assignFunction(layout),
  });
  return { layout, bytes };
}

/** `array` from `start` to `end`, without a new view when that is all of it (one row, one model). */
const slice = (array: Float32Array, start: number, end: number) =>
  start === 0 && end === array.length ? array : array.subarray(start, end);

/** Answers of at most this many rows are copied out one by one (cheaper than two subarrays). */
const FEW_ROWS = 16;

/** The exported memory object (`instantiateWasm` hands out only its current buffer). */
interface GrowableMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** One instance of the module for one dimension: `assignJs`'s answer for any rows and centers. */
export class WasmAssignKernel {
  private readonly memory: GrowableMemory;
  private readonly prepare: (count: number, groups: number, source: number, force: number) => void;
  private readonly run: (tiles: number, groups: number) => void;
  private f32!: Float32Array;
  private f64!: Float64Array;
  private i32!: Int32Array;
  /** How many centers are laid out (none yet: -1). */
  private laidOut = -1;

  constructor(
    private readonly layout: AssignLayout,
    module: WasmModule,
  ) {
    const { exports } = instantiateWasm(module);
    this.memory = exports['memory'] as GrowableMemory;
    this.prepare = exports['prepare'] as (
      count: number,
      groups: number,
      source: number,
      force: number,
    ) => void;
    this.run = exports['assign'] as (tiles: number, groups: number) => void;
    this.views();
  }

  private views(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** The nearest of `count` centers for each of `rows` rows of `layout.dim` features. */
  assign(points: Float32Array, rows: number, centers: Float32Array, count: number): Assignment {
    const { dim, pieceRows, group, tile } = this.layout;
    const groups = Math.ceil(count / group);
    const source = sourceOffset(this.layout, groups);
    const needed = source + 2 * count * dim * 4;
    if (needed > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / PAGE));
      this.views();
    }
    const { f32, i32 } = this;
    f32.set(slice(centers, 0, count * dim), source / 4 + count * dim);
    this.prepare(count, groups, source, this.laidOut === count ? 0 : 1);
    this.laidOut = count;
    const labels = new Int32Array(rows);
    const distances = new Float32Array(rows);
    const labelsAt = this.layout.labels / 4;
    const distancesAt = this.layout.distances / 4;
    for (let row = 0; row < rows; row += pieceRows) {
      const take = Math.min(pieceRows, rows - row);
      this.f64.set(slice(points, row * dim, (row + take) * dim), this.layout.points / 8);
      this.run(Math.ceil(take / tile.rows), groups);
      if (take <= FEW_ROWS) {
        for (let i = 0; i < take; i++) {
          labels[row + i] = i32[labelsAt + i]!;
          distances[row + i] = f32[distancesAt + i]!;
        }
      } else {
        labels.set(i32.subarray(labelsAt, labelsAt + take), row);
        distances.set(f32.subarray(distancesAt, distancesAt + take), row);
      }
    }
    return { labels, distances };
  }
}

const compiled = new Map<number, { layout: AssignLayout; module: WasmModule }>();
const kernels = new Map<number, WasmAssignKernel>();

/** The thread's kernel for `dim` features, compiled and instantiated on first use. */
function kernelFor(dim: number): WasmAssignKernel {
  let kernel = kernels.get(dim);
  if (!kernel) {
    let found = compiled.get(dim);
    if (!found) {
      const { layout, bytes } = assignModule(dim);
      found = { layout, module: compileWasm(bytes) };
      compiled.set(dim, found);
    }
    kernel = new WasmAssignKernel(found.layout, found.module);
    kernels.set(dim, kernel);
  }
  return kernel;
}

/**
 * `assignJs`'s answer (the same labels and distance bits) from the WebAssembly kernel: about the
 * same CPU time for one row and a fifth to a seventh of it from 10 rows up (d=50, k=10).
 * Synchronous, with no native runtime.
 */
export function assignWasm(
  points: Float32Array,
  rows: number,
  centers: Float32Array,
  count: number,
  dim: number,
): Assignment {
  if (rows === 0 || dim === 0) return assignJs(points, rows, centers, count, dim);
  return kernelFor(dim).assign(points, rows, centers, count);
}

/**
 * The WebAssembly assigner. One kernel per dimension per thread, shared by every model of the
 * thread (a multi-model endpoint holding 1,000 k-means models of one dimension holds one kernel).
 */
export const wasmAssigner: Assigner = {
  assign: async (points, rows, centers, count, dim) => assignWasm(points, rows, centers, count, dim),
  close: async () => {},
};
