import { createReadStream } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry, Unpack } from 'tar';
import { ENV } from '../../contract/env.js';
import { InputError, errorMessage } from '../../util/errors.js';
import { startsWithGzipMagic } from '../gzip-magic.js';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
/** Entry types node-tar consumes itself (pax and GNU long-name headers): never written, never checked. */
const META_TYPES = /Header|Extended|Pax|NextFile|LongPath|LongLink/i;

/**
 * Compressed bytes per read. Inflate stops only between input chunks and deflate can expand about
 * 1032x, so this bounds what one chunk inflates to (16 MiB) whatever the archive claims.
 */
const COMPRESSED_CHUNK = 16 * 1024;

/** One member of a checked archive. */
export interface TarMemberInfo {
  /** The member path, normalised: no `./`, no trailing `/`. */
  readonly path: string;
  readonly type: string;
  /** Bytes the member holds (0 for directories and links). */
  readonly size: number;
}

/** Options of {@link extractTarball}. */
export interface ExtractOptions {
  /**
   * Most bytes the members may hold together (`SMKIT_MAX_EXTRACT_BYTES`); default: the free space of
   * the file system that holds `dest`.
   */
  readonly maxBytes?: number | undefined;
  /** A caller's own rules, run on the checked members before anything is written; throws to refuse. */
  readonly check?: (members: readonly TarMemberInfo[]) => void;
}

/** Splits a member path into segments, dropping `.` and empty ones. */
function segments(member: string): string[] {
  return member.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
}

function isAbsolute(member: string): boolean {
  return member.startsWith('/') || member.startsWith('\\') || /^[A-Za-z]:/.test(member);
}

/** Resolves `target` against the directory segments `from`; `undefined` when it climbs above the root. */
function resolveInside(from: readonly string[], target: string): string[] | undefined {
  const resolved = [...from];
  for (const part of segments(target)) {
    if (part === '..') {
      if (resolved.length === 0) return undefined;
      resolved.pop();
    } else {
      resolved.push(part);
    }
  }
  return resolved;
}

/** Bytes in the unit a person reads: `5.0 GiB`, `64.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The byte budget and how it was chosen, for the message that names it. */
interface Budget {
  readonly bytes: number;
  readonly source: string;
}

/** The free space of the file system holding `dir` (its nearest existing ancestor). */
async function freeSpace(dir: string): Promise<number> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const info = await statfs(current);
      return info.bavail * info.bsize;
    } catch (error) {
      const parent = path.dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      current = parent;
    }
  }
}

async function budgetFor(dest: string, maxBytes: number | undefined): Promise<Budget> {
  if (maxBytes !== undefined) return { bytes: maxBytes, source: ENV.maxExtractBytes };
  const free = await freeSpace(dest);
  return { bytes: free, source: `the free space of ${dest}; set ${ENV.maxExtractBytes} to choose another` };
}

/**
 * The member rules, fed one entry at a time: no absolute paths, no `..`, no devices or FIFOs, no links
 * pointing outside the archive, nothing written through a symlink, and no more bytes than the budget.
 * `problem` holds the first broken rule.
 */
class MemberChecker {
  readonly members: TarMemberInfo[] = [];
  problem: string | undefined;
  private readonly symlinks = new Set<string>();
  private bytes = 0;

  constructor(private readonly budget: Budget) {}

  add(entry: ReadEntry): void {
    if (META_TYPES.test(entry.type)) return;
    this.problem ??= this.check(entry);
    if (!this.problem) {
      this.members.push({ path: segments(entry.path).join('/'), type: entry.type, size: entry.size ?? 0 });
    }
  }

  private check(entry: ReadEntry): string | undefined {
    const member = entry.path;
    if (!ALLOWED_TYPES.has(entry.type))
      return `member '${member}' is a ${entry.type}; only files, directories and links are allowed`;
    if (isAbsolute(member)) return `member '${member}' has an absolute path`;
    const parts = segments(member);
    if (parts.includes('..')) return `member '${member}' contains '..'`;
    for (let depth = 1; depth < parts.length; depth++) {
      if (this.symlinks.has(parts.slice(0, depth).join('/'))) {
        return `member '${member}' lies under the symbolic link '${parts.slice(0, depth).join('/')}'`;
      }
    }
    if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
      const target = entry.linkpath ?? '';
      const kind = entry.type === 'Link' ? 'hard link' : 'symbolic link';
      if (isAbsolute(target)) return `member '${member}' is a ${kind} to the absolute path '${target}'`;
      // Symlink targets are relative to the link's directory, hard link targets to the archive root.
      const base = entry.type === 'SymbolicLink' ? parts.slice(0, -1) : [];
      const resolved = resolveInside(base, target);
      if (resolved === undefined)
        return `member '${member}' is a ${kind} pointing outside the archive ('${target}')`;
      for (let depth = 1; depth < resolved.length; depth++) {
        if (this.symlinks.has(resolved.slice(0, depth).join('/'))) {
          return `member '${member}' is a ${kind} through the symbolic link '${resolved.slice(0, depth).join('/')}'`;
        }
      }
      if (entry.type === 'SymbolicLink') this.symlinks.add(parts.join('/'));
    }
    this.bytes += entry.size ?? 0;
    if (this.bytes > this.budget.bytes) {
      return (
        `its members hold more than the extraction budget of ${formatBytes(this.budget.bytes)} ` +
        `(${this.budget.source}): '${member}' alone is ${formatBytes(entry.size ?? 0)}`
      );
    }
    return undefined;
  }
}

/** The archive's tar bytes: gunzipped as a stream when the file starts with the gzip magic. */
async function openTarBytes(file: string): Promise<Readable> {
  const gzipped = await startsWithGzipMagic(file);
  const source = createReadStream(file, { highWaterMark: COMPRESSED_CHUNK });
  if (!gzipped) return source;
  const gunzip = createGunzip();
  pipeline(source, gunzip).catch(() => undefined);
  return gunzip;
}

/** Why an archive cannot be read, in words: corrupt gzip, not an archive at all, cut short. */
function unreadable(file: string, error: unknown): InputError {
  const { code } = error as { code?: string };
  const message = errorMessage(error);
  const what = code?.startsWith('Z_')
    ? `the gzip data is corrupt or truncated (${message})`
    : code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ENTRY_INVALID'
      ? `it is not a tar or tar.gz archive (${message})`
      : message;
  return new InputError(`cannot read the archive ${file}: ${what}`);
}

/**
 * Writes `bytes` into a node-tar parser with backpressure: waits for `drain` whenever the parser (or
 * the file it is writing) is behind, so memory stays at one chunk whatever the archive holds. Rejects
 * on the parser's first error; resolves when it emitted `done` (`close` for an unpack, `end` for a list).
 */
async function feed(parser: Parser, bytes: Readable, done: 'close' | 'end'): Promise<void> {
  let failed: unknown;
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('error', (error: unknown) => {
      failed ??= error;
      reject(error);
    });
    parser.on(done, () => resolve());
  });
  finished.catch(() => undefined);
  try {
    for await (const chunk of bytes) {
      if (failed) break;
      if (!parser.write(chunk as Buffer)) {
        await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), finished]);
      }
    }
  } catch (error) {
    failed ??= error;
  } finally {
    bytes.destroy();
  }
  if (failed) throw failed;
  parser.end();
  await finished;
}

/**
 * Checks every member of a tar or tar.gz archive before anything is written (see {@link MemberChecker})
 * and returns them. Streams with constant memory: a tar bomb is refused at its first member's header.
 * Throws an InputError naming the archive and the first offending member, or saying why it cannot be read.
 */
export async function checkTarball(file: string, options: ExtractOptions = {}): Promise<TarMemberInfo[]> {
  const checker = new MemberChecker(await budgetFor(path.dirname(file), options.maxBytes));
  return scan(file, checker);
}

async function scan(file: string, checker: MemberChecker): Promise<TarMemberInfo[]> {
  let empty = true;
  const parser = new Parser({
    strict: true,
    zstd: false,
    onReadEntry: (entry) => {
      checker.add(entry);
      if (checker.problem) parser.abort(new Error(checker.problem));
      entry.resume();
    },
  });
  const bytes = await openTarBytes(file);
  // `tar -czf x.tar.gz -T /dev/null` writes only zero blocks, which node-tar calls no archive at all.
  bytes.on('data', (chunk: Buffer) => {
    if (empty && chunk.some((byte) => byte !== 0)) empty = false;
  });
  try {
    await feed(parser, bytes, 'end');
  } catch (error) {
    const { code } = error as { code?: string };
    if (!checker.problem && !(empty && code === 'TAR_BAD_ARCHIVE')) throw unreadable(file, error);
  }
  if (checker.problem) throw new InputError(`refusing to extract ${file}: ${checker.problem}`);
  return checker.members;
}

/**
 * Extracts a tar or tar.gz archive into `dest` after every member passed {@link checkTarball} (and
 * `options.check`), streaming to disk with constant memory and refusing archives whose members hold
 * more than the byte budget. The rules are applied again while extracting, so an archive changed
 * between the passes cannot slip through. Ownership is not restored; modes are kept.
 * @returns the extracted members
 */
export async function extractTarball(
  file: string,
  dest: string,
  options: ExtractOptions = {},
): Promise<TarMemberInfo[]> {
  const budget = await budgetFor(dest, options.maxBytes);
  const members = await scan(file, new MemberChecker(budget));
  options.check?.(members);
  await mkdir(dest, { recursive: true });
  if (members.length === 0) return members;
  const checker = new MemberChecker(budget);
  const unpack = new Unpack({
    cwd: dest,
    strict: true,
    zstd: false,
    preserveOwner: false,
    preservePaths: false,
    filter: (_path, entry) => {
      checker.add(entry as ReadEntry);
      if (checker.problem) unpack.abort(new Error(checker.problem));
      return !checker.problem;
    },
  });
  try {
    await feed(unpack, await openTarBytes(file), 'close');
  } catch (error) {
    if (checker.problem) throw new InputError(`refusing to extract ${file}: ${checker.problem}`);
    throw new InputError(`cannot extract ${file} into ${dest}: ${errorMessage(error)}`);
  }
  return members;
}
