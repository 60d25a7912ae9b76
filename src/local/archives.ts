import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, cp, link, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { extractTarball, type TarMemberInfo } from '../io/archive/safe-extract.js';
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

/**
 * SageMaker unpacks model.tar.gz at the root of /opt/ml/model: an archive whose members all sit under
 * one directory (other than `code/`) was made one level too high, and an archive without files holds
 * no model.
 */
function checkModelMembers(file: string, members: readonly TarMemberInfo[]): void {
  const named = members.filter((member) => member.path !== '');
  if (!named.some((member) => member.type !== 'Directory')) {
    throw new InputError(
      `${file} holds no files: SageMaker unpacks it into /opt/ml/model; create it from the model directory with \`tar -C model -czf model.tar.gz .\``,
    );
  }
  const tops = new Set(named.map((member) => member.path.split('/')[0]!));
  const rootFiles = named.filter((member) => !member.path.includes('/') && member.type !== 'Directory');
  const [top] = tops;
  if (rootFiles.length === 0 && tops.size === 1 && top !== 'code') {
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

/** Options of {@link prepareModelDir}. */
export interface PrepareModelDirOptions {
  /** Most bytes model.tar.gz may unpack to; default: the free space of `target`'s file system. */
  readonly maxExtractBytes?: number | undefined;
}

/**
 * Unpacks a model.tar.gz (safely, streaming, within the byte budget, members at the root) or takes a
 * model directory, and returns a read-only copy in `target`, as SageMaker mounts /opt/ml/model.
 */
export async function prepareModelDir(
  model: string,
  target: string,
  options: PrepareModelDirOptions = {},
): Promise<void> {
  const info = await stat(model).catch(() => undefined);
  if (!info)
    throw new InputError(`--model ${model} does not exist; pass a model.tar.gz or a model directory`);
  await mkdir(target, { recursive: true });
  if (info.isDirectory()) {
    await checkModelDir(model);
    await cp(model, target, { recursive: true, dereference: true });
  } else {
    await extractTarball(model, target, {
      maxBytes: options.maxExtractBytes,
      check: (members) => checkModelMembers(model, members),
    });
  }
  await makeReadOnly(target);
}
