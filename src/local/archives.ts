import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, cp, link, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { InputError, SmkitError } from '../util/errors.js';
import { listFiles } from './job-tree.js';

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** An empty tar.gz: two zero blocks, as `tar -czf x.tar.gz -T /dev/null` writes. */
const EMPTY_TAR_GZ = gzipSync(Buffer.alloc(1024));

/**
 * Tars the CONTENTS of one or more directories into `file` (members at the root, as SageMaker tars
 * /opt/ml/model). Several hosts' trees are merged; a path written by two hosts with different bytes is
 * an error, because on SageMaker one would silently overwrite the other.
 * @returns the member files, sorted
 */
export async function tarDirectories(
  dirs: readonly { readonly label: string; readonly dir: string }[],
  file: string,
): Promise<string[]> {
  const owners = new Map<string, { label: string; full: string }>();
  for (const { label, dir } of dirs) {
    for (const relative of await listFiles(dir)) {
      const full = path.join(dir, relative);
      const previous = owners.get(relative);
      if (!previous) {
        owners.set(relative, { label, full });
      } else if ((await sha256(previous.full)) !== (await sha256(full))) {
        throw new SmkitError(
          `${relative} was written by ${previous.label} and ${label} with different contents: SageMaker merges the hosts' trees and one would silently overwrite the other; write it only on the leader or use host-specific names`,
        );
      }
    }
  }
  const members = [...owners.keys()].sort();
  if (members.length === 0) {
    await writeFile(file, EMPTY_TAR_GZ);
    return members;
  }
  const [only] = dirs;
  if (dirs.length === 1 && only) {
    await tar.c({ gzip: true, file, cwd: only.dir, portable: true }, members);
    return members;
  }
  const staging = await mkdtemp(path.join(os.tmpdir(), 'smkit-merge-'));
  try {
    for (const [relative, { full }] of owners) {
      await mkdir(path.dirname(path.join(staging, relative)), { recursive: true });
      await link(full, path.join(staging, relative));
    }
    await tar.c({ gzip: true, file, cwd: staging, portable: true }, members);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return members;
}

function normalizeMember(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/**
 * Checks every member of a model archive before anything is written: no absolute paths, no `..`,
 * no links pointing outside, no devices; and members at the root, not nested one directory down.
 */
export async function checkModelArchive(file: string): Promise<void> {
  const problems: string[] = [];
  const tops = new Set<string>();
  let rootFiles = 0;
  await tar.t({
    file,
    onReadEntry: (entry) => {
      const raw = entry.path;
      const name = normalizeMember(raw);
      if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) problems.push(`${raw} has an absolute path`);
      else if (name.split('/').includes('..')) problems.push(`${raw} climbs out with '..'`);
      if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
        const target = entry.linkpath ?? '';
        const resolved =
          entry.type === 'SymbolicLink' ? path.posix.join(path.posix.dirname(name), target) : target;
        if (target.startsWith('/') || path.posix.normalize(resolved).split('/')[0] === '..') {
          problems.push(`${raw} links outside the archive (to ${target})`);
        }
      } else if (!['File', 'OldFile', 'Directory', 'ContiguousFile'].includes(entry.type)) {
        if (!/Header|Extended|Pax/i.test(entry.type)) problems.push(`${raw} is a ${entry.type}`);
      }
      if (name !== '' && name !== '.') {
        const [top] = name.split('/');
        tops.add(top!);
        if (!name.includes('/') && entry.type !== 'Directory') rootFiles++;
      }
      entry.resume();
    },
  });
  if (problems.length) {
    throw new InputError(
      `unsafe member in ${file}: ${problems.slice(0, 3).join('; ')}; re-create the archive from the model directory with \`tar -C model -czf model.tar.gz .\``,
    );
  }
  const [top] = tops;
  if (rootFiles === 0 && tops.size === 1 && top !== 'code') {
    throw new InputError(
      nestedMessage(file, top!, `re-create it with \`tar -C ${top} -czf model.tar.gz .\``),
    );
  }
}

function nestedMessage(what: string, top: string, fix: string): string {
  return `${what} is nested one directory down (everything is under '${top}/'): SageMaker unpacks members at the root of /opt/ml/model; ${fix}`;
}

async function checkModelDir(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  const [only] = entries;
  if (entries.length === 1 && only?.isDirectory() && only.name !== 'code') {
    throw new InputError(nestedMessage(dir, only.name, `pass --model ${path.join(dir, only.name)}`));
  }
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(full);
    else if (entry.isFile()) await chmod(full, 0o444);
  }
  await chmod(dir, 0o555);
}

/** Removes a tree made read-only by `prepareModelDir` (non-root users need write permission back first). */
export async function removeTree(dir: string): Promise<void> {
  const restore = async (current: string): Promise<void> => {
    await chmod(current, 0o755);
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (entry.isDirectory()) await restore(path.join(current, entry.name));
    }
  };
  await restore(dir).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Unpacks a model.tar.gz (after `checkModelArchive`) or takes a model directory, and returns a
 * read-only copy in `target`, as SageMaker mounts /opt/ml/model.
 */
export async function prepareModelDir(model: string, target: string): Promise<void> {
  const info = await stat(model).catch(() => undefined);
  if (!info)
    throw new InputError(`--model ${model} does not exist; pass a model.tar.gz or a model directory`);
  await mkdir(target, { recursive: true });
  if (info.isDirectory()) {
    await checkModelDir(model);
    await cp(model, target, { recursive: true, dereference: true });
  } else {
    await checkModelArchive(model);
    await tar.x({ file: model, cwd: target, strict: true, preserveOwner: false });
  }
  await makeReadOnly(target);
}
