import { gzipSync } from 'node:zlib';

/** One member of a hand-built tar archive. */
export interface TarMember {
  readonly name: string;
  /** ustar type flag: '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory, '6' FIFO. */
  readonly type?: '0' | '1' | '2' | '3' | '5' | '6';
  readonly body?: string;
  readonly linkname?: string;
  readonly mode?: number;
}

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/**
 * Builds a gzipped ustar archive byte by byte, so tests can write members that no well-behaved tar
 * tool would produce (`../x`, absolute paths, links out of the tree, devices).
 */
export function tarGz(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const body = Buffer.from(member.body ?? '');
    const type = member.type ?? '0';
    const header = Buffer.alloc(512);
    field(header, 0, 100, member.name);
    field(header, 100, 8, octal(member.mode ?? (type === '5' ? 0o755 : 0o644), 8));
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(type === '0' ? body.length : 0, 12));
    field(header, 136, 12, octal(1_700_000_000, 12));
    field(header, 148, 8, '        ');
    field(header, 156, 1, type);
    field(header, 157, 100, member.linkname ?? '');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header);
    if (type === '0' && body.length) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
