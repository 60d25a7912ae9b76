import { formatFloat } from './number-format.js';

/** The longest text `formatFloat` writes (`-1.2345678901234567e-123` is 24 bytes). */
export const MAX_FLOAT_BYTES = 26;

/** The scratch answers are written into (one per thread; encoders run to completion one at a time). */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);
const SCRATCH_MAX_BYTES = 8 * 1024 * 1024;
const STRING_MAX_BYTES = 2 ** 28;

/**
 * Writes an answer's bytes straight into one Buffer sized up front: no per-value strings for integers,
 * no per-row strings, joins or template literals. What the text encoders build their answers with.
 * The bytes go into a scratch buffer kept between answers, and `done` copies out exactly the answer:
 * a fresh buffer of the worst-case size per request would be a third more external memory for the GC
 * to chase (large answers: it is what drives V8's full collections, see `recycled-floats.ts`).
 */
export class AnswerWriter {
  readonly bytes: Buffer;
  at = 0;

  /** `capacity` must bound the answer's length (the callers count `MAX_FLOAT_BYTES` per value). */
  constructor(capacity: number) {
    if (capacity > SCRATCH_MAX_BYTES) {
      // Rare huge answers get a buffer of their own rather than a scratch kept for ever.
      this.bytes = Buffer.allocUnsafeSlow(capacity);
      return;
    }
    if (scratch.length < capacity)
      scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, Math.max(capacity, scratch.length * 2)));
    this.bytes = scratch;
  }

  /** Copies pre-encoded bytes (a JSON key, a separator). */
  raw(piece: Uint8Array): void {
    const bytes = this.bytes;
    let at = this.at;
    for (let i = 0; i < piece.length; i++) bytes[at++] = piece[i]!;
    this.at = at;
  }

  byte(value: number): void {
    this.bytes[this.at++] = value;
  }

  /** Writes `x` exactly as `formatFloat(x)` spells it (`3.0`, `-0.0`, `17.124544143676758`, `1e-05`). */
  float(x: number): void {
    const bytes = this.bytes;
    if (x >= 0 && x < 2147483648 && (x | 0) === x && !Object.is(x, -0)) {
      // Small non-negative integers (cluster indices, counts): digits by hand, then `.0`.
      let at = this.at;
      if (x < 10) {
        bytes[at++] = 48 + x;
      } else {
        let digits = 0;
        for (let v = x; v > 0; v = Math.floor(v / 10)) digits++;
        let v = x;
        for (let i = digits - 1; i >= 0; i--) {
          bytes[at + i] = 48 + (v % 10);
          v = Math.floor(v / 10);
        }
        at += digits;
      }
      bytes[at] = 46;
      bytes[at + 1] = 48;
      this.at = at + 2;
      return;
    }
    const text = formatFloat(x);
    let at = this.at;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /**
   * The answer written so far as text, copied out of the scratch: a string lives on V8's heap and dies
   * young, where a Buffer of the answer would be external memory that only a full collection frees.
   */
  done(): string | Buffer {
    // Past V8's longest string (2^29 - 24 characters on 64-bit), the bytes themselves.
    if (this.at > STRING_MAX_BYTES) return this.bytes.subarray(0, this.at);
    return this.bytes.toString('utf8', 0, this.at);
  }
}

/** The UTF-8 bytes of `text`, for pieces written many times. */
export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}
