/**
 * The few pieces of the WebAssembly binary format that a generated numeric kernel needs: one
 * exported memory, exported functions of i32 parameters (and at most one result), and a code
 * emitter for the integer, float, memory, loop and SIMD128 instructions they use. Opcodes are from
 * the WebAssembly 2.0 specification.
 */

/** Value types. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const name = (text: string) => {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
};
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** A tuple of `N` local indices. */
type Locals<N extends number, Acc extends number[] = []> = Acc['length'] extends N
  ? Acc
  : Locals<N, [...Acc, number]>;

/** A function body under construction: locals are numbered after the parameters. */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: number[] = [];

  /** `params` i32 parameters; `result` the type of the one result (none when omitted). */
  constructor(
    readonly params: number,
    readonly result?: number,
  ) {}

  /** Declares a local of `type` and returns its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  /** `count` new locals of `type`, in order, as a tuple to destructure. */
  localsOf<N extends number>(type: number, count: N): Locals<N> {
    return Array.from({ length: count }, () => this.local(type)) as Locals<N>;
  }

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  private simd(opcode: number, ...rest: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...rest);
  }

  get(index: number) {
    return this.op(0x20, ...uleb(index));
  }
  set(index: number) {
    return this.op(0x21, ...uleb(index));
  }
  i32(value: number) {
    return this.op(0x41, ...sleb(value));
  }
  add() {
    return this.op(0x6a);
  }
  sub() {
    return this.op(0x6b);
  }
  mul() {
    return this.op(0x6c);
  }
  ltU() {
    return this.op(0x49);
  }
  gtU() {
    return this.op(0x4b);
  }
  eqz() {
    return this.op(0x45);
  }
  /** select: the first of the two values below the condition if it is non-zero, else the second. */
  select() {
    return this.op(0x1b);
  }
  /** `block` ... `end`; a `br` to it jumps past the end. */
  block(body: () => void) {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `loop` ... `end`; a `br` to it jumps back to the start. */
  loop(body: () => void) {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  brIf(depth: number) {
    return this.op(0x0d, ...uleb(depth));
  }
  br(depth: number) {
    return this.op(0x0c, ...uleb(depth));
  }
  divU() {
    return this.op(0x6e);
  }
  remU() {
    return this.op(0x70);
  }
  /** i32.load at the address on the stack plus `offset` bytes. */
  loadI32(offset = 0) {
    return this.op(0x28, 2, ...uleb(offset));
  }
  /** f32.load at the address on the stack plus `offset` bytes. */
  loadF32(offset = 0) {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  /** f64.store: address, then value, on the stack. */
  storeF64(offset = 0) {
    return this.op(0x39, 3, ...uleb(offset));
  }
  /** f64.const (any float64, NaN and infinities included). */
  f64(value: number) {
    return this.op(0x44, ...new Uint8Array(Float64Array.of(value).buffer));
  }
  f64Lt() {
    return this.op(0x63);
  }
  /** f64.promote_f32 (exact). */
  promoteF32() {
    return this.op(0xbb);
  }
  /** v128.load64_splat: one float64 broadcast to the two lanes. */
  loadSplat64(offset = 0) {
    return this.simd(0x0a, 3, ...uleb(offset));
  }
  f64x2Sub() {
    return this.simd(0xf1);
  }
  f64x2Mul() {
    return this.simd(0xf2);
  }
  f64x2Splat() {
    return this.simd(0x14);
  }
  /** f64x2.ge: all-ones lanes where the first operand is >= the second (false for NaN). */
  f64x2Ge() {
    return this.simd(0x4c);
  }
  /** i64x2.all_true: 1 if no lane is zero. */
  allTrue64() {
    return this.simd(0xc3);
  }
  /** f64x2.extract_lane `lane` (0 is the lower address). */
  f64x2Lane(lane: number) {
    return this.simd(0x21, lane);
  }
  tee(index: number) {
    return this.op(0x22, ...uleb(index));
  }
  /** i64.const of a value that fits in 32 bits. */
  i64(value: number) {
    return this.op(0x42, ...sleb(value));
  }
  eq() {
    return this.op(0x46);
  }
  ne() {
    return this.op(0x47);
  }
  geU() {
    return this.op(0x4f);
  }
  or() {
    return this.op(0x72);
  }
  shl() {
    return this.op(0x74);
  }
  shrU() {
    return this.op(0x76);
  }
  i64Add() {
    return this.op(0x7c);
  }
  i64Mul() {
    return this.op(0x7e);
  }
  /** i64.extend_i32_u. */
  i64FromI32U() {
    return this.op(0xad);
  }
  /** f64.convert_i64_s. */
  f64FromI64() {
    return this.op(0xb9);
  }
  f64Div() {
    return this.op(0xa3);
  }
  f64Neg() {
    return this.op(0x9a);
  }
  /** f32.demote_f64: round to the nearest float32, ties to even (as a Float32Array store does). */
  f32FromF64() {
    return this.op(0xb6);
  }
  /** i32.load8_u at the address on the stack plus `offset` bytes. */
  load8(offset = 0) {
    return this.op(0x2d, 0, ...uleb(offset));
  }
  /** f64.load at the address on the stack plus `offset` bytes. */
  loadF64(offset = 0) {
    return this.op(0x2b, 3, ...uleb(offset));
  }
  /** i32.store: address, then value, on the stack. */
  storeI32(offset = 0) {
    return this.op(0x36, 2, ...uleb(offset));
  }
  /** f32.store: address, then value, on the stack. */
  storeF32(offset = 0) {
    return this.op(0x38, 2, ...uleb(offset));
  }
  /**
   * `if` ... (`else` ...) `end` on the i32 condition on the stack; a `br` inside counts it as one level.
   */
  when(then: () => void, otherwise?: () => void) {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  /** Returns from the function with the value(s) on the stack. */
  ret() {
    return this.op(0x0f);
  }
  /** v128.load at the address on the stack plus `offset` bytes. */
  load(offset = 0) {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  /** v128.load32_splat: one float32 broadcast to the four lanes. */
  loadSplat(offset = 0) {
    return this.simd(0x09, 2, ...uleb(offset));
  }
  /** v128.store: address, then value, on the stack. */
  store(offset = 0) {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  /** v128.const of sixteen bytes. */
  v128(bytes: ArrayLike<number>) {
    return this.simd(0x0c, ...Array.from(bytes));
  }
  zero() {
    return this.v128(new Uint8Array(16));
  }
  /** i8x16.shuffle of the two vectors on the stack. */
  shuffle(lanes: readonly number[]) {
    return this.simd(0x0d, ...lanes);
  }
  and() {
    return this.simd(0x4e);
  }
  xor() {
    return this.simd(0x51);
  }
  /** v128.any_true: 1 if any bit is set. */
  anyTrue() {
    return this.simd(0x53);
  }
  f32x4Add() {
    return this.simd(0xe4);
  }
  f32x4Sub() {
    return this.simd(0xe5);
  }
  f32x4Mul() {
    return this.simd(0xe6);
  }
  f64x2Add() {
    return this.simd(0xf0);
  }
  /** f64x2.promote_low_f32x4: lanes 0 and 1 as float64. */
  promoteLow() {
    return this.simd(0x5f);
  }

  /** The body as the code section stores it: local declarations, instructions, `end`. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.locals) {
      const last = groups.at(-1);
      if (last && last[1] === type) last[0]!++;
      else groups.push([1, type]);
    }
    const body = [...vector(groups.map(([count, type]) => [...uleb(count!), type!])), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/**
 * A module of one exported memory (`memory`, `pages` of 64 KiB to start) and the exported
 * functions, each of `code.params` i32 parameters and `code.result` (if any).
 */
export function wasmModule(pages: number, functions: Record<string, Code>): Uint8Array<ArrayBuffer> {
  const entries = Object.entries(functions);
  const types = entries.map(([, code]) => [
    0x60,
    ...vector(Array(code.params).fill([I32])),
    ...vector(code.result === undefined ? [] : [[code.result]]),
  ]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(3, vector(entries.map((_, i) => uleb(i)))),
    ...section(5, vector([[0x00, ...uleb(pages)]])),
    ...section(
      7,
      vector([
        [...name('memory'), 0x02, 0x00],
        ...entries.map(([key], i) => [...name(key), 0x00, ...uleb(i)]),
      ]),
    ),
    ...section(10, vector(entries.map(([, code]) => code.encode()))),
  ];
  return new Uint8Array(bytes);
}

/** A compiled module (opaque). */
export interface WasmModule {
  readonly compiled: unknown;
}

/** The slice of the WebAssembly JavaScript API used here (TypeScript's ES libs do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array<ArrayBuffer>) => unknown;
  Instance: new (module: unknown) => { exports: Record<string, unknown> };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Compiles module bytes (synchronously: the generated modules are a few kilobytes). */
export function compileWasm(bytes: Uint8Array<ArrayBuffer>): WasmModule {
  return { compiled: new webAssembly.Module(bytes) };
}

/** A new instance of `module`: its exported memory's buffer and its exported functions. */
export function instantiateWasm(module: WasmModule): {
  memory: ArrayBuffer;
  exports: Record<string, unknown>;
} {
  const { exports } = new webAssembly.Instance(module.compiled);
  return { memory: (exports['memory'] as { buffer: ArrayBuffer }).buffer, exports };
}
