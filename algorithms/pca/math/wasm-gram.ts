import {
  Code,
  I32,
  V128,
  type WasmModule,
  compileWasm,
  instantiateWasm,
  wasmModule,
} from '../../../src/util/wasm-builder.js';

const PAGE = 65_536;
/**
 * Column vectors per register tile of 4 Gram rows: 2 (8 accumulators) took 0.12 s of CPU for 1M x 50
 * where 3 took 0.17 and 4 took 0.16-0.24 (the wider tiles spill registers).
 */
const WIDE = 2;

/**
 * Where the generated module keeps things (byte offsets into its memory) for rows of `dim` floats.
 * Rows are padded to `vectors` float32x4 vectors with a constant 1 at lane `dim`, so the Gram
 * matrix of the padded rows carries the column sums in its column `dim` for free.
 */
export interface GramLayout {
  readonly dim: number;
  /** float32x4 vectors per padded row: floor(dim / 4) + 1. */
  readonly vectors: number;
  /** Side of the padded float64 Gram matrix: 4 * vectors. */
  readonly padded: number;
  /** Rows per block: the float32 partial sums of a block go into the float64 Gram matrix. */
  readonly blockRows: number;
  /** Rows copied in per call of the module's `gram`. */
  readonly pieceRows: number;
  readonly shift: number;
  readonly gram: number;
  readonly scratch: number;
  readonly input: number;
  readonly bytes: number;
}

/** The memory layout for `dim` features. */
export function gramLayout(dim: number): GramLayout {
  const vectors = Math.floor(dim / 4) + 1;
  const padded = 4 * vectors;
  const stride = 16 * vectors;
  // A block of padded rows stays in the L1 cache while every tile of the Gram matrix reads it.
  const blockRows = Math.max(16, Math.min(256, Math.floor(24_576 / stride)));
  // About 256 KiB of input per call: it stays in the L2 cache for the padding pass.
  const pieceRows = Math.max(blockRows, Math.floor(2 ** 18 / (4 * dim)));
  const shift = 0;
  const gram = shift + stride;
  const scratch = gram + padded * padded * 8;
  const input = scratch + blockRows * stride;
  // The last row's last vector reads up to 12 bytes past the rows (masked off).
  const bytes = input + pieceRows * dim * 4 + 16;
  return { dim, vectors, padded, blockRows, pieceRows, shift, gram, scratch, input, bytes };
}

/** Bytes of a float32x4 vector. */
function f32x4(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/**
 * Generates `gram(rows)`: for the `rows` float32 rows at `input`, padded[i][j] += sum over rows of
 * (x[i] - shift[i]) (x[j] - shift[j]) for the upper triangle of 4 x 4 blocks, with the padded
 * row's constant 1 making column `dim` the column sums. Each block of rows is shifted and padded
 * into `scratch`, then every tile of 4 Gram rows by 8 (or 4) columns accumulates it in float32x4
 * registers and adds the tile into the float64 matrix.
 */
function gramFunction(layout: GramLayout): Code {
  const { dim, vectors, padded, blockRows, scratch, input, gram, shift } = layout;
  const stride = 16 * vectors;
  const code = new Code(1);
  const rows = 0;
  const vec = () => code.local(V128);
  const [row0, n, src, dst, end, bOff, jOff, ps, py, g] = code.localsOf(I32, 10);
  const acc = Array.from({ length: 4 * WIDE }, vec);
  const y = Array.from({ length: WIDE }, vec);
  const s = vec();
  const set = (local: number, value: () => void) => {
    value();
    code.set(local);
  };
  const addTo = (local: number, amount: number) => set(local, () => code.get(local).i32(amount).add());

  /** Shifts row `src` into row `dst` of the scratch block, padded with zeros and the constant 1. */
  const padRow = () => {
    for (let k = 0; k < vectors; k++) {
      const lanes = Math.min(4, dim - 4 * k);
      code.get(dst);
      if (lanes === 0) {
        code.v128(f32x4([1, 0, 0, 0]));
      } else {
        code
          .get(src)
          .load(16 * k)
          .i32(shift)
          .load(16 * k)
          .f32x4Sub();
        if (lanes < 4) {
          const mask = new Uint8Array(16).fill(0xff, 0, lanes * 4);
          const one = [0, 0, 0, 0];
          one[lanes] = 1;
          code.v128(mask).and().v128(f32x4(one)).f32x4Add();
        }
      }
      code.store(16 * k);
    }
  };

  /** One tile: Gram rows 4b..4b+3 by `width` vectors of columns from 4jv, over the block. */
  const tile = (width: number) => {
    for (let t = 0; t < 4; t++) for (let q = 0; q < width; q++) set(acc[WIDE * t + q]!, () => code.zero());
    set(ps, () => code.i32(scratch).get(bOff).add());
    set(py, () => code.i32(scratch).get(jOff).add());
    set(end, () => code.get(py).get(n).i32(stride).mul().add());
    code.loop(() => {
      for (let q = 0; q < width; q++) set(y[q]!, () => code.get(py).load(16 * q));
      for (let t = 0; t < 4; t++) {
        set(s, () => code.get(ps).loadSplat(4 * t));
        for (let q = 0; q < width; q++) {
          const a = acc[WIDE * t + q]!;
          set(a, () => code.get(a).get(s).get(y[q]!).f32x4Mul().f32x4Add());
        }
      }
      addTo(ps, stride);
      addTo(py, stride);
      code.get(py).get(end).ltU().brIf(0);
    });
    // g = gram + 8 * (4b * padded + 4jv), with bOff = 16b and jOff = 16jv.
    set(g, () =>
      code
        .get(bOff)
        .i32(2 * padded)
        .mul()
        .get(jOff)
        .i32(2)
        .mul()
        .add()
        .i32(gram)
        .add(),
    );
    const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
    for (let t = 0; t < 4; t++) {
      for (let q = 0; q < width; q++) {
        const a = acc[WIDE * t + q]!;
        const at = 8 * (t * padded + 4 * q);
        code.get(g).get(g).load(at).get(a).promoteLow().f64x2Add().store(at);
        code
          .get(g)
          .get(g)
          .load(at + 16)
          .get(a)
          .get(a)
          .shuffle(high)
          .promoteLow()
          .f64x2Add()
          .store(at + 16);
      }
    }
  };

  set(row0, () => code.i32(0));
  code.block(() =>
    code.loop(() => {
      code.get(row0).get(rows).ltU().eqz().brIf(1);
      // n = min(blockRows, rows - row0)
      set(n, () =>
        code.i32(blockRows).get(rows).get(row0).sub().get(rows).get(row0).sub().i32(blockRows).gtU().select(),
      );
      set(src, () =>
        code
          .get(row0)
          .i32(4 * dim)
          .mul()
          .i32(input)
          .add(),
      );
      set(dst, () => code.i32(scratch));
      set(end, () => code.get(n).i32(stride).mul().i32(scratch).add());
      code.loop(() => {
        padRow();
        addTo(src, 4 * dim);
        addTo(dst, stride);
        code.get(dst).get(end).ltU().brIf(0);
      });
      set(bOff, () => code.i32(0));
      /** Branches out `depth` levels unless a tile of `width` vectors from jOff fits in the row. */
      const leaveUnlessFits = (width: number, depth: number) =>
        code
          .get(jOff)
          .i32(16 * (width - 1))
          .add()
          .i32(stride)
          .ltU()
          .eqz()
          .brIf(depth);
      code.loop(() => {
        set(jOff, () => code.get(bOff));
        // Tiles of WIDE vectors while they fit, then one narrower tile for the rest of the row.
        code.block(() =>
          code.loop(() => {
            leaveUnlessFits(WIDE, 1);
            tile(WIDE);
            addTo(jOff, 16 * WIDE);
            code.br(0);
          }),
        );
        for (let width = WIDE - 1; width >= 1; width--) {
          code.block(() => {
            leaveUnlessFits(width, 0);
            tile(width);
            addTo(jOff, 16 * width);
          });
        }
        addTo(bOff, 16);
        code.get(bOff).i32(stride).ltU().brIf(0);
      });
      set(row0, () => code.get(row0).get(n).add());
      code.br(0);
    }),
  );
  return code;
}

/** The generated module's bytes for `dim` features and its layout. */
export function gramModule(dim: number): { layout: GramLayout; bytes: Uint8Array<ArrayBuffer> } {
  const layout = gramLayout(dim);
  return { layout, bytes: wasmModule(Math.ceil(layout.bytes / PAGE), { gram: gramFunction(layout) }) };
}

const compiled = new Map<number, { layout: GramLayout; module: WasmModule }>();

/**
 * The compiled module for `dim` features and its layout, for `new WasmGram`. Compiled once per
 * process and dimension: instances of one module share its optimized code, so a second kernel does
 * not start over in V8's baseline tier.
 */
export function compileGram(dim: number): { layout: GramLayout; module: WasmModule } {
  let found = compiled.get(dim);
  if (!found) {
    const { layout, bytes } = gramModule(dim);
    found = { layout, module: compileWasm(bytes) };
    compiled.set(dim, found);
  }
  return found;
}

/** One instance of the module: adds shifted rows' Gram matrix and column sums into float64 arrays. */
export class WasmGram {
  private readonly f32: Float32Array;
  private readonly padded: Float64Array;
  private readonly run: (rows: number) => void;

  constructor(
    private readonly layout: GramLayout,
    module: WasmModule,
  ) {
    const { memory, exports } = instantiateWasm(module);
    this.f32 = new Float32Array(memory);
    this.padded = new Float64Array(memory, layout.gram, layout.padded * layout.padded);
    this.run = exports['gram'] as (rows: number) => void;
  }

  /** gram (d x d, both triangles) += (X - shift)^T (X - shift); sums += column sums of X - shift. */
  add(x: Float32Array, rows: number, shift: Float32Array, gram: Float64Array, sums: Float64Array): void {
    const { dim: d, pieceRows, input, padded: p } = this.layout;
    this.f32.set(shift.subarray(0, d), this.layout.shift / 4);
    for (let at = 0; at < rows; at += pieceRows) {
      const take = Math.min(pieceRows, rows - at);
      this.f32.set(x.subarray(at * d, (at + take) * d), input / 4);
      this.run(take);
    }
    const g = this.padded;
    for (let i = 0; i < d; i++) {
      const row = i * p;
      gram[i * d + i]! += g[row + i]!;
      for (let j = i + 1; j < d; j++) {
        const v = g[row + j]!;
        gram[i * d + j]! += v;
        gram[j * d + i]! += v;
      }
      sums[i]! += g[row + d]!;
    }
    g.fill(0);
  }
}
