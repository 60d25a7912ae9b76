import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { extractTarball } from '../../src/io/archive/safe-extract.js';
import { type TarMember, tarGz } from '../train/tar-bytes.js';

async function archive(members: TarMember[]): Promise<{ file: string; dest: string; root: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'smkit-tar-'));
  const file = path.join(root, 'sourcedir.tar.gz');
  await writeFile(file, tarGz(members));
  return { file, dest: path.join(root, 'code'), root };
}

describe('extractTarball', () => {
  test('extracts files, directories and links that stay inside', async () => {
    const { file, dest } = await archive([
      { name: 'lib/', type: '5' },
      { name: 'lib/util.js', body: 'export const x = 1;\n' },
      { name: 'train.sh', body: 'echo hi\n', mode: 0o755 },
      { name: 'lib/current', type: '2', linkname: 'util.js' },
      { name: 'alias.js', type: '1', linkname: 'lib/util.js' },
    ]);
    await extractTarball(file, dest);
    expect((await readdir(dest)).sort()).toEqual(['alias.js', 'lib', 'train.sh']);
    expect(await readFile(path.join(dest, 'lib/util.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(await readFile(path.join(dest, 'alias.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(await readlink(path.join(dest, 'lib/current'))).toBe('util.js');
  });

  test.each<[string, TarMember[], string]>([
    ['a ../ member', [{ name: '../escape.js', body: 'x' }], "member '../escape.js' contains '..'"],
    [
      'a nested ../ member',
      [{ name: 'a/../../escape.js', body: 'x' }],
      "member 'a/../../escape.js' contains '..'",
    ],
    [
      'an absolute member',
      [{ name: '/tmp/escape.js', body: 'x' }],
      "member '/tmp/escape.js' has an absolute path",
    ],
    [
      'a symlink out of the tree',
      [{ name: 'lib/out', type: '2', linkname: '../../etc' }],
      "member 'lib/out' is a symbolic link pointing outside the archive ('../../etc')",
    ],
    [
      'an absolute symlink',
      [{ name: 'passwd', type: '2', linkname: '/etc/passwd' }],
      "member 'passwd' is a symbolic link to the absolute path '/etc/passwd'",
    ],
    [
      'a hard link out of the tree',
      [{ name: 'h', type: '1', linkname: '../outside' }],
      "member 'h' is a hard link pointing outside the archive ('../outside')",
    ],
    [
      'a member written through a symlink',
      [
        { name: 'up', type: '2', linkname: '.' },
        { name: 'up/x.js', body: 'x' },
      ],
      "member 'up/x.js' lies under the symbolic link 'up'",
    ],
    [
      'a symlink chained through a symlink',
      [
        { name: 'd', type: '2', linkname: '.' },
        { name: 'l', type: '2', linkname: 'd/../../etc' },
      ],
      "member 'l' is a symbolic link pointing outside the archive ('d/../../etc')",
    ],
    ['a device', [{ name: 'null', type: '3' }], "member 'null' is a CharacterDevice"],
    ['a FIFO', [{ name: 'pipe', type: '6' }], "member 'pipe' is a FIFO"],
  ])('rejects %s, naming the member, and writes nothing', async (_what, members, message) => {
    const { file, dest, root } = await archive([{ name: 'train.js', body: 'ok' }, ...members]);
    await expect(extractTarball(file, dest)).rejects.toThrow(`refusing to extract ${file}: ${message}`);
    expect(await readdir(root)).toEqual(['sourcedir.tar.gz']);
  });

  test('a file that is not an archive fails naming the file', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'smkit-tar-'));
    const file = path.join(root, 'broken.tar.gz');
    await writeFile(file, 'this is not a tarball');
    await expect(extractTarball(file, path.join(root, 'code'))).rejects.toThrow(`archive ${file}`);
  });
});
