import { open } from 'node:fs/promises';

/** Whether a file starts with the gzip magic bytes 1f 8b (whatever its name says). */
export async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  const head = Buffer.alloc(2);
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  return head[0] === 0x1f && head[1] === 0x8b;
}
