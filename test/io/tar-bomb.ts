import { open } from 'node:fs/promises';
import zlib from 'node:zlib';

const ZEROS = Buffer.alloc(1 << 20);

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar header of one regular file member of `size` bytes. */
function fileHeader(name: string, size: number, mode = 0o644): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write(octal(mode, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  if (size < 8 ** 11) {
    header.write(octal(size, 12), 124);
  } else {
    // GNU base-256: sizes beyond the 8 GiB that 11 octal digits hold.
    header[124] = 0x80;
    header.writeBigUInt64BE(BigInt(size), 124 + 4);
  }
  header.write(octal(1_700_000_000, 12), 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

/** Raw deflate of `data` ending on a full flush: independent of what comes before, so it can be repeated. */
function deflatePiece(data: Buffer): Buffer {
  return zlib.deflateRawSync(data, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
}

/**
 * `crc => zlib.crc32(ZEROS, crc)` without reading the MiB each time: a CRC over fixed data is an affine
 * map of the starting CRC over GF(2), known from 33 evaluations. Makes a 5 GiB member cost milliseconds.
 */
function zeroMiBCrc(): (crc: number) => number {
  const base = zlib.crc32(ZEROS, 0);
  const columns = Array.from({ length: 32 }, (_, bit) => (zlib.crc32(ZEROS, 2 ** bit) ^ base) >>> 0);
  return (crc) => {
    let out = base;
    for (let bit = 0; bit < 32; bit++) if ((crc >>> bit) & 1) out ^= columns[bit]!;
    return out >>> 0;
  };
}

/** A member of {@link writeTarBomb}: `size` zero bytes (a multiple of 1 MiB), or a small text file. */
export type BombMember =
  | {
      readonly name: string;
      readonly size: number;
      /** The size the header claims, when it is to lie (a truncated giant); default `size`. */
      readonly declaredSize?: number;
    }
  | { readonly name: string; readonly text: string; readonly mode?: number };

/**
 * Writes a tar.gz "bomb" in seconds and constant memory. One MiB of zeros is compressed once (about
 * 1 KiB) and its deflate blocks repeated, so a 5 GiB member makes a 5 MB archive; the gzip trailer
 * carries the real CRC and length. Nothing big is ever held or committed.
 */
export async function writeTarBomb(file: string, members: readonly BombMember[]): Promise<void> {
  const zeros = deflatePiece(ZEROS);
  const extendByZeroMiB = zeroMiBCrc();
  const handle = await open(file, 'w');
  try {
    let crc = 0;
    let length = 0;
    const out: Buffer[] = [];
    let pending = 0;
    const write = async (piece: Buffer, raw: Buffer, times = 1) => {
      for (let i = 0; i < times; i++) {
        out.push(piece);
        pending += piece.length;
        crc = raw === ZEROS ? extendByZeroMiB(crc) : zlib.crc32(raw, crc);
        length += raw.length;
        if (pending >= 1 << 20) {
          await handle.write(Buffer.concat(out));
          out.length = 0;
          pending = 0;
        }
      }
    };
    out.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
    for (const member of members) {
      if ('text' in member) {
        const body = Buffer.from(member.text);
        const block = Buffer.concat([
          fileHeader(member.name, body.length, member.mode),
          body,
          Buffer.alloc((512 - (body.length % 512)) % 512),
        ]);
        await write(deflatePiece(block), block);
        continue;
      }
      const { name, size } = member;
      if (size % ZEROS.length !== 0) throw new Error(`member size ${size} is not a multiple of 1 MiB`);
      const header = fileHeader(name, member.declaredSize ?? size);
      await write(deflatePiece(header), header);
      await write(zeros, ZEROS, size / ZEROS.length);
    }
    const end = Buffer.alloc(1024);
    const trailer = Buffer.alloc(8);
    out.push(zlib.deflateRawSync(end, { level: 9 }));
    crc = zlib.crc32(end, crc);
    length += end.length;
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(length % 2 ** 32, 4);
    out.push(trailer);
    await handle.write(Buffer.concat(out));
  } finally {
    await handle.close();
  }
}
