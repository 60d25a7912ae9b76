/**
 * A WebAssembly kernel for the plain decimals of serving bodies. `parseDecimalRows` reads a CSV body
 * of rows of plain decimals (`-12.5`, `+3`, `.5`, `7.`; at most 15 digits, no spaces, exponents or
 * quotes), all `dim` wide, each ending in `\n` or `\r\n` (the last may end the body);
 * `JsonDecimalLists` reads JSON number lists (`[1.5,-2,0]`: JSON's grammar, no exponents, at most 15
 * digits, no spaces). The module's bytes are built here at first use (no binary in the repository,
 * no build step). Bodies go through its memory in windows (`DECIMAL_WINDOW`), so a request costs at
 * most one window of copying room, whatever its size.
 *
 * Each value is computed as the JavaScript readers' inline parsers do it: the digits as an exact
 * integer (15 digits stay below 2^53), divided by the exact power of ten of the digits after the
 * point (one correctly rounded division), negated for a `-`, rounded once to float32. So the float32
 * bytes are the ones they give; anything else is "not mine" and they read it.
 */
import { Code, compileWasm, F64, I32, I64, instantiateWasm, wasmModule } from '../util/wasm-builder.js';

/** Largest window of body bytes the kernel reads in one call. */
export const DECIMAL_WINDOW = 128 * 1024;
/** Most digits of a value the kernel reads (as `parsePlainCsvBody`). */
const MAX_DIGITS = 15;

const PAGE = 65_536;
/**
 * Memory: 10^0..10^15 as float64, a result slot, then the input window (and a zero byte after it),
 * then the floats out.
 */
const POW = 0;
const SLOT = POW + 8 * (MAX_DIGITS + 1);
const IN = SLOT + 16;
const OUT = IN + DECIMAL_WINDOW + 16;
/** A window of n bytes holds at most (n + 1) / 2 values: each has a digit and all but the last a separator. */
const OUT_BYTES = 4 * (DECIMAL_WINDOW / 2 + 1);
const PAGES = Math.ceil((OUT + OUT_BYTES) / PAGE);

const NL = 10;
const CR = 13;
const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const POINT = 46;
const ZERO = 48;
const CLOSE_LIST = 93;

/** The locals `storeDecimal` reads: the digits as an integer, the point's place, the sign, a scratch, the output offset. */
interface DecimalLocals {
  readonly mant: number;
  readonly scale: number;
  readonly neg: number;
  readonly value: number;
  readonly out: number;
}

/**
 * Emits the one rounding both kernels share: digits (exact in float64 up to 15 of them) divided by an
 * exact power of ten, negated for a sign, rounded once to float32 and stored at `out`, which moves on.
 */
function storeDecimal(c: Code, { mant, scale, neg, value, out }: DecimalLocals): void {
  c.get(mant).f64FromI64().set(value);
  c.get(scale);
  c.when(() => c.get(value).get(scale).i32(3).shl().loadF64(POW).f64Div().set(value));
  c.get(neg);
  c.when(() => c.get(value).f64Neg().set(value));
  c.get(out).get(value).f32FromF64().storeF32(OUT);
  c.get(out).i32(4).add().set(out);
}

/**
 * `rows(len, dim)`: parses the `len` bytes at IN (a zero byte after them) as whole rows of `dim`
 * values into float32s at OUT; returns how many values, or -1 for input that is not plain rows.
 */
function rowsFunction(): Code {
  const c = new Code(2, I32);
  const len = 0;
  const dim = 1;
  const p = c.local(I32);
  const end = c.local(I32);
  const out = c.local(I32);
  const col = c.local(I32);
  const ch = c.local(I32);
  const d = c.local(I32);
  const digits = c.local(I32);
  const scale = c.local(I32);
  const neg = c.local(I32);
  const mant = c.local(I64);
  const value = c.local(F64);
  /** d = memory[++p] - '0' */
  const nextDigit = () => c.get(p).i32(1).add().tee(p).load8(IN).i32(ZERO).sub().set(d);
  /** mantissa = mantissa * 10 + d; digits++ */
  const addDigit = () => {
    c.get(mant).i64(10).i64Mul().get(d).i64FromI32U().i64Add().set(mant);
    c.get(digits).i32(1).add().set(digits);
  };

  c.i32(0).set(p);
  c.get(len).set(end);
  c.i32(0).set(out);
  c.block(() => {
    // depth here: fail = 0
    c.block(() => {
      // done = 0, fail = 1
      c.loop(() => {
        // rows = 0, done = 1, fail = 2
        c.get(p).get(end).geU().brIf(1);
        c.i32(0).set(col);
        c.loop(() => {
          // cells = 0, rows = 1, done = 2, fail = 3
          c.get(p).load8(IN).set(ch);
          c.get(ch).i32(MINUS).eq().tee(neg).get(ch).i32(PLUS).eq().or();
          c.when(() => c.get(p).i32(1).add().tee(p).load8(IN).set(ch));
          c.i64(0).set(mant);
          c.i32(0).set(digits);
          c.i32(0).set(scale);
          c.get(ch).i32(ZERO).sub().set(d);
          c.block(() =>
            c.loop(() => {
              c.get(d).i32(9).gtU().brIf(1);
              addDigit();
              nextDigit();
              c.br(0);
            }),
          );
          c.get(d)
            .i32(POINT - ZERO)
            .eq();
          c.when(() => {
            nextDigit();
            c.block(() =>
              c.loop(() => {
                c.get(d).i32(9).gtU().brIf(1);
                addDigit();
                c.get(scale).i32(1).add().set(scale);
                nextDigit();
                c.br(0);
              }),
            );
          });
          // `1.` and `.5` are numbers; a lone sign, an empty cell or more than 15 digits are not mine.
          c.get(digits)
            .i32(1)
            .sub()
            .i32(MAX_DIGITS - 1)
            .gtU()
            .brIf(3);
          storeDecimal(c, { mant, scale, neg, value, out });
          c.get(col).i32(1).add().set(col);
          c.get(d).i32(ZERO).add().set(ch);
          c.get(col).get(dim).ltU();
          c.when(() => {
            // if = 0, cells = 1, rows = 2, done = 3, fail = 4
            c.get(ch).i32(COMMA).ne().brIf(4);
            c.get(p).i32(1).add().set(p);
            c.br(1);
          });
          // After the row's last value: an optional CR, then LF or the end of the input.
          c.get(ch).i32(CR).eq();
          c.when(() => c.get(p).i32(1).add().tee(p).load8(IN).set(ch));
          c.get(ch).i32(NL).eq();
          c.when(() => {
            c.get(p).i32(1).add().set(p);
            c.br(2);
          });
          c.get(p).get(end).eq().brIf(1);
          c.br(3);
        });
      });
    });
    c.get(out).i32(2).shrU().ret();
  });
  c.i32(-1);
  return c;
}

/**
 * `list(pos, len)`: parses the JSON numbers `n,n,...]` at IN + pos (just after a `[`; the window is
 * `len` bytes with a zero byte after it) into float32s at OUT; returns how many (the position after
 * the `]` goes to SLOT), -1 for anything else (spaces, exponents, more than 15 digits, leading zeros,
 * invalid JSON) and -2 when the window ends before the `]`.
 */
function listFunction(): Code {
  const c = new Code(2, I32);
  const pos = 0;
  const len = 1;
  const p = c.local(I32);
  const out = c.local(I32);
  const ch = c.local(I32);
  const d = c.local(I32);
  const start = c.local(I32);
  const scale = c.local(I32);
  const neg = c.local(I32);
  const mant = c.local(I64);
  const value = c.local(F64);
  const nextDigit = () => c.get(p).i32(1).add().tee(p).load8(IN).i32(ZERO).sub().set(d);
  /** Digits from the one in d on, into mant. */
  const digitRun = () =>
    c.block(() =>
      c.loop(() => {
        c.get(d).i32(9).gtU().brIf(1);
        c.get(mant).i64(10).i64Mul().get(d).i64FromI32U().i64Add().set(mant);
        nextDigit();
        c.br(0);
      }),
    );

  c.get(pos).set(p);
  c.i32(0).set(out);
  c.block(() => {
    // fail = 0
    c.block(() => {
      // short = 0, fail = 1
      c.loop(() => {
        // values = 0, short = 1, fail = 2
        c.get(p).load8(IN).tee(ch).i32(MINUS).eq().tee(neg);
        c.when(() => c.get(p).i32(1).add().set(p));
        c.get(p).set(start);
        c.i64(0).set(mant);
        c.get(p).load8(IN).i32(ZERO).sub().tee(d).i32(9).gtU();
        c.when(() => {
          // if = 0, values = 1, short = 2, fail = 3
          c.get(p).get(len).eq().brIf(2);
          c.br(3);
        });
        c.get(d).eqz();
        c.when(() => {
          // JSON has no leading zeros: a 0 is followed by anything but a digit.
          nextDigit();
          c.get(d).i32(9).gtU().eqz().brIf(3);
        });
        digitRun();
        c.i32(0).set(scale);
        c.get(d)
          .i32(POINT - ZERO)
          .eq();
        c.when(() => {
          nextDigit();
          c.get(p).set(scale);
          digitRun();
          c.get(p).get(scale).sub().tee(scale).eqz();
          // A point needs a digit after it.
          c.when(() => {
            // if = 0, if = 1, values = 2, short = 3, fail = 4
            c.get(p).get(len).eq().brIf(3);
            c.br(4);
          });
        });
        // Digits: the bytes from start, less the point when there is one (a point has digits after it).
        c.get(p).get(start).sub().i32(1).i32(0).get(scale).select().sub();
        c.i32(1)
          .sub()
          .i32(MAX_DIGITS - 1)
          .gtU()
          .brIf(2);
        storeDecimal(c, { mant, scale, neg, value, out });
        c.get(d).i32(ZERO).add().tee(ch).i32(COMMA).eq();
        c.when(() => {
          c.get(p).i32(1).add().set(p);
          c.br(1);
        });
        c.get(ch).i32(CLOSE_LIST).eq();
        c.when(() => {
          c.i32(SLOT).get(p).i32(1).add().storeI32();
          c.get(out).i32(2).shrU().ret();
        });
        c.get(p).get(len).eq().brIf(1);
        c.br(2);
      });
    });
    c.i32(-2).ret();
  });
  c.i32(-1);
  return c;
}

interface Kernel {
  readonly rows: (len: number, dim: number) => number;
  readonly list: (pos: number, len: number) => number;
  /** SLOT, as int32. */
  readonly slot: Int32Array;
  /** The JSON list reader whose window IN holds now. */
  owner: JsonDecimalLists | undefined;
  readonly bytes: Uint8Array;
  readonly floats: Float32Array;
}

let kernel: Kernel | undefined;

/** The module, compiled and instantiated at first use (once per thread), its powers of ten written. */
function decimalKernel(): Kernel | undefined {
  // Without WebAssembly (`node --jitless`) every body goes to the JavaScript readers, as before them.
  if (kernel || typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'undefined') return kernel;
  const { memory, exports } = instantiateWasm(
    compileWasm(wasmModule(PAGES, { rows: rowsFunction(), list: listFunction() })),
  );
  const pow = new Float64Array(memory, POW, MAX_DIGITS + 1);
  for (let i = 0; i <= MAX_DIGITS; i++) pow[i] = 10 ** i;
  kernel = {
    rows: exports['rows'] as Kernel['rows'],
    list: exports['list'] as Kernel['list'],
    slot: new Int32Array(memory, SLOT, 1),
    owner: undefined,
    bytes: new Uint8Array(memory),
    floats: new Float32Array(memory, OUT, OUT_BYTES / 4),
  };
  return kernel;
}

/** `parseDecimalRows`: the body is not plain decimal rows (no plain-decimal reader would take it). */
export const NOT_PLAIN = -1;
/** `parseDecimalRows`: the body was not read (a line longer than the window, or no WebAssembly). */
export const NOT_READ = -2;

/**
 * Parses a body of plain decimal rows `dim` wide into `values` (from its start) and returns how
 * many values it wrote, `NOT_PLAIN` when the body is anything else (a cell with an exponent or
 * space, a ragged row, a blank line...) or `NOT_READ` when it holds a line longer than `window`
 * bytes: either way `values` holds junk and a JavaScript parser must read the body. `window` (at
 * most `DECIMAL_WINDOW`) is for tests.
 * @example parseDecimalRows(Buffer.from('1.5,-2\n3,4\n'), 2, new Float32Array(4)) // 4: [1.5, -2, 3, 4]
 */
export function parseDecimalRows(
  body: Buffer,
  dim: number,
  values: Float32Array,
  window = DECIMAL_WINDOW,
): number {
  if (window > DECIMAL_WINDOW || window < 1) throw new RangeError(`window must be 1..${DECIMAL_WINDOW}`);
  const k = decimalKernel();
  if (!k) return NOT_READ;
  const { rows, bytes, floats } = k;
  const length = body.length;
  let pos = 0;
  let n = 0;
  while (pos < length) {
    let stop = pos + window;
    if (stop >= length) stop = length;
    else {
      const newline = body.lastIndexOf(NL, stop - 1);
      if (newline < pos) return NOT_READ;
      stop = newline + 1;
    }
    const size = stop - pos;
    k.owner = undefined;
    bytes.set(body.subarray(pos, stop), IN);
    bytes[IN + size] = 0;
    const count = rows(size, dim);
    if (count < 0) return NOT_PLAIN;
    if (n + count > values.length) return NOT_READ;
    values.set(floats.subarray(0, count), n);
    n += count;
    pos = stop;
  }
  return n;
}

/**
 * Reads the number lists of one JSON body (`[1.5,-2,0.25]`: the common request row) in the kernel:
 * JSON's number grammar without exponents, at most 15 digits, no spaces. The body goes through the
 * kernel's memory in windows from the list being read. One reader per body, used synchronously.
 */
export class JsonDecimalLists {
  private start = 0;
  private stop = 0;
  /** Where the last list read ends (just past its `]`). */
  next = 0;

  constructor(
    private readonly body: Uint8Array,
    private readonly window = DECIMAL_WINDOW,
  ) {
    if (window > DECIMAL_WINDOW || window < 1) throw new RangeError(`window must be 1..${DECIMAL_WINDOW}`);
  }

  /**
   * Reads the list whose first number is at `p` (just after its `[`) and returns how many values it
   * holds, each in `floats` from 0 (`next` is past its `]`), or -1 when the JavaScript reader must
   * read it (anything but plain numbers, a list longer than the window).
   */
  read(p: number): number {
    const k = decimalKernel();
    if (!k) return -1;
    if (k.owner !== this || p < this.start || p >= this.stop) this.load(k, p);
    let count = k.list(p - this.start, this.stop - this.start);
    if (count === -2 && this.start < p && this.stop < this.body.length) {
      this.load(k, p);
      count = k.list(0, this.stop - this.start);
    }
    if (count < 0) return -1;
    this.next = this.start + k.slot[0]!;
    return count;
  }

  /** The floats the last `read` gave. */
  get floats(): Float32Array {
    return kernel!.floats;
  }

  private load(k: Kernel, p: number): void {
    const stop = Math.min(p + this.window, this.body.length);
    k.bytes.set(this.body.subarray(p, stop), IN);
    k.bytes[IN + stop - p] = 0;
    k.owner = this;
    this.start = p;
    this.stop = stop;
  }
}
