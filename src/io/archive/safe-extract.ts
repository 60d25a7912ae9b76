import { mkdir } from 'node:fs/promises';
import { type ReadEntry, t as listTar, x as extractTar } from 'tar';
import { InputError } from '../../util/errors.js';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

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

/**
 * Checks every member of a tar archive before anything is written: no absolute paths, no `..`, no
 * devices or FIFOs, no links pointing outside the archive, nothing extracted through a symlink.
 * Throws an InputError naming the archive and the first offending member.
 */
export async function checkTarball(file: string): Promise<void> {
  const symlinks = new Set<string>();
  let problem: string | undefined;
  const check = (entry: ReadEntry): string | undefined => {
    const member = entry.path;
    if (!ALLOWED_TYPES.has(entry.type))
      return `member '${member}' is a ${entry.type}; only files, directories and links are allowed`;
    if (isAbsolute(member)) return `member '${member}' has an absolute path`;
    const parts = segments(member);
    if (parts.includes('..')) return `member '${member}' contains '..'`;
    for (let depth = 1; depth < parts.length; depth++) {
      if (symlinks.has(parts.slice(0, depth).join('/'))) {
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
        if (symlinks.has(resolved.slice(0, depth).join('/'))) {
          return `member '${member}' is a ${kind} through the symbolic link '${resolved.slice(0, depth).join('/')}'`;
        }
      }
      if (entry.type === 'SymbolicLink') symlinks.add(parts.join('/'));
    }
    return undefined;
  };
  try {
    await listTar({
      file,
      strict: true,
      onReadEntry: (entry) => {
        problem ??= check(entry);
        entry.resume();
      },
    });
  } catch (error) {
    throw new InputError(`cannot read the archive ${file}: ${(error as Error).message}`);
  }
  if (problem) throw new InputError(`refusing to extract ${file}: ${problem}`);
}

/**
 * Extracts a tar or tar.gz archive into `dest` after {@link checkTarball} accepted every member.
 * Ownership is not restored; modes are kept (scripts stay executable).
 */
export async function extractTarball(file: string, dest: string): Promise<void> {
  await checkTarball(file);
  await mkdir(dest, { recursive: true });
  try {
    await extractTar({ file, cwd: dest, strict: true, preserveOwner: false, preservePaths: false });
  } catch (error) {
    throw new InputError(`cannot extract ${file} into ${dest}: ${(error as Error).message}`);
  }
}
