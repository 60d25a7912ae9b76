/**
 * Runs a doc file's shell blocks as a reader would: in order, in one bash session (so a block can use
 * the files and variables of the ones before it), in a fresh directory that holds the checkout's
 * `examples/`, `bin/`, `node_modules/` and `test/fixtures/` (the docs say "from a checkout"), with a `smkit` on PATH as
 * `npm link` puts one there. Ports 8080-8089 in the docs become free ports, since other sessions share
 * this machine.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../src/util/net.js';
import { type CodeBlock, expectedOutput, missingOutput } from './markdown-blocks.js';

/** One block's output and whether the session got past it. */
export interface BlockRun {
  readonly block: CodeBlock;
  readonly output: string;
  /** False for the block that failed (and for the blocks after it, which did not run). */
  readonly completed: boolean;
}

/** What a session printed, split by block, and bash's exit code. */
export interface SessionRun {
  readonly blocks: BlockRun[];
  readonly code: number | null;
}

const MARK = '::smkit-docs-block::';

/** Runs `blocks` (shell blocks of one file) in one bash session; `env` adds to the environment. */
export async function runSession(
  blocks: readonly CodeBlock[],
  options: { readonly env?: Record<string, string>; readonly timeoutMs: number },
): Promise<SessionRun> {
  const repo = process.cwd();
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-docs-'));
  try {
    const bin = path.join(work, '.bin');
    await mkdir(bin);
    const shim = path.join(bin, 'smkit');
    await writeFile(
      shim,
      // tsx by its absolute URL: the shim runs in another directory, which has no node_modules.
      `#!/bin/sh\nexec "${process.execPath}" --import "${pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href}" "${path.join(repo, 'test/support/smkit-cli.ts')}" "$@"\n`,
    );
    await chmod(shim, 0o755);
    // What "from the repository root" offers: the examples, bin/smkit, and node_modules (npx tsx).
    for (const entry of ['examples', 'bin', 'node_modules']) {
      await symlink(path.join(repo, entry), path.join(work, entry));
    }
    await mkdir(path.join(work, 'test'));
    await symlink(path.join(repo, 'test/fixtures'), path.join(work, 'test/fixtures'));
    // 8080, 8081, ... in the docs: each becomes its own free port.
    const ports = new Map<string, string>();
    for (const docPort of new Set(blocks.flatMap((b) => b.code.match(/\b808\d\b/g) ?? []))) {
      ports.set(docPort, String(await freePort()));
    }
    const withPorts = (code: string) => code.replace(/\b808\d\b/g, (p) => ports.get(p) ?? p);
    const script = [
      'set -eo pipefail',
      'exec 2>&1',
      // Background commands of the docs (a local endpoint) end with the session.
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      // A leading newline: the block before may end without one (smkit local invoke prints the bare body).
      ...blocks.flatMap((block, i) => [`printf '\\n${MARK}${i}\\n'`, withPorts(block.code)]),
      `printf '\\n${MARK}end\\n'`,
    ].join('\n');
    const child = spawn('bash', ['-c', script], {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), options.timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    try {
      process.kill(-child.pid!, 'SIGKILL'); // whatever the docs left running
    } catch {
      // the group is gone already
    }
    const parts = output.split(new RegExp(`^${MARK}`, 'm'));
    const byIndex = new Map<string, string>();
    for (const part of parts.slice(1)) {
      const newline = part.indexOf('\n');
      byIndex.set(
        part.slice(0, newline < 0 ? undefined : newline),
        newline < 0 ? '' : part.slice(newline + 1),
      );
    }
    const finished = byIndex.has('end');
    return {
      code,
      blocks: blocks.map((block, i) => ({
        block,
        output: byIndex.get(String(i)) ?? '',
        completed: finished || byIndex.has(String(i + 1)),
      })),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * What a session did not do as documented: the block that failed, or each block whose output lacks
 * its `# =>` lines, with the last lines it printed. Empty when every block ran as written.
 */
export function sessionProblems(session: SessionRun): string[] {
  const problems: string[] = [];
  for (const run of session.blocks) {
    const where = `${run.block.file}:${run.block.line}`;
    const tail = run.output.split('\n').slice(-40).join('\n');
    if (!run.completed) return [...problems, `${where} failed (bash exit ${session.code}):\n${tail}`];
    const missing = missingOutput(run.output, expectedOutput(run.block.code));
    if (missing.length > 0) {
      problems.push(`${where} did not print\n  ${missing.join('\n  ')}\nit printed:\n${tail}`);
    }
  }
  return problems;
}
