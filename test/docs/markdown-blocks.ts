/**
 * Reads the fenced code blocks of the docs, so that tests can compile the TypeScript ones and run the
 * shell ones. A block may be preceded (blank lines allowed) by one HTML comment that says how it is
 * tested:
 *
 * - `<!-- not-run: REASON -->`: not runnable here (an AWS account, a Docker build); the reason is required.
 * - `<!-- run: moto -->`: AWS commands, run by test/system/docs-aws.test.ts against moto_server.
 * - no comment: a shell block is run by test/docs/shell-blocks.test.ts; a TypeScript block is compiled.
 *
 * Expected output is written in the block itself as `# => line` comments after a command (so the block
 * stays copy-pasteable): each such line must appear in the block's output, in order; `...` in it matches
 * any text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The markdown files whose blocks are tested: README, docs/, and the examples' READMEs once they exist. */
export function docFiles(root = process.cwd()): string[] {
  const files = ['README.md'];
  const docs = path.join(root, 'docs');
  if (existsSync(docs)) {
    files.push(
      ...readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`),
    );
  }
  const examples = path.join(root, 'examples');
  if (existsSync(examples)) {
    for (const name of readdirSync(examples).sort()) {
      if (existsSync(path.join(examples, name, 'README.md'))) files.push(`examples/${name}/README.md`);
    }
  }
  return files;
}

/** How a block is tested, from the comment before it. */
export type BlockMarker =
  | { readonly kind: 'run' }
  | { readonly kind: 'moto' }
  | { readonly kind: 'not-run'; readonly reason: string };

/** One fenced code block. */
export interface CodeBlock {
  /** The markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word: `sh`, `ts`, `dockerfile` ... */
  readonly lang: string;
  readonly code: string;
  readonly marker: BlockMarker;
}

/** The languages whose blocks are shell commands. */
export const SHELL_LANGS = new Set(['sh', 'bash', 'console', 'shell']);

const MARKER = /^<!--\s*(not-run|run)\s*:\s*(.*?)\s*-->$/;

function markerOf(previous: string | undefined, where: string): BlockMarker {
  const match = previous?.trim().match(MARKER);
  if (!match) return { kind: 'run' };
  const [, verb, detail] = match;
  if (verb === 'not-run') {
    if (!detail) throw new Error(`${where}: <!-- not-run: --> needs a reason`);
    return { kind: 'not-run', reason: detail };
  }
  if (detail === 'moto') return { kind: 'moto' };
  throw new Error(`${where}: unknown marker <!-- run: ${detail} --> (use run: moto or not-run: REASON)`);
}

/** The fenced blocks of one markdown text; `file` names it in the blocks and in errors. */
export function parseBlocks(text: string, file: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let lastText: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/);
    if (!open) {
      if (lines[i]!.trim() !== '') lastText = lines[i];
      continue;
    }
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j]!.trim() === fence) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: code block never closed`);
    blocks.push({
      file,
      line: i + 1,
      lang: lang ?? '',
      code: `${body.join('\n')}\n`,
      marker: markerOf(lastText, `${file}:${i + 1}`),
    });
    lastText = undefined;
    i = j;
  }
  return blocks;
}

/** Every fenced block of the doc files. */
export function readDocBlocks(root = process.cwd()): CodeBlock[] {
  return docFiles(root).flatMap((file) => parseBlocks(readFileSync(path.join(root, file), 'utf8'), file));
}

/** The `# => ...` lines of a shell block: what its output must contain, in order. */
export function expectedOutput(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.match(/^\s*# => ?(.*)$/)?.[1])
    .filter((line): line is string => line !== undefined)
    .map((line) => line.trimEnd());
}

/**
 * The expected lines that `output` lacks: each expected line must equal (`...` matching any text) a
 * later output line than the one the previous expected line matched. Returns the first unmatched
 * expected line and everything after it.
 */
export function missingOutput(output: string, expected: readonly string[]): string[] {
  const lines = output.split('\n').map((line) => line.trimEnd());
  let at = 0;
  for (let e = 0; e < expected.length; e++) {
    const pattern = new RegExp(
      `^${expected[e]!.split('...')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line));
    if (found < 0) return expected.slice(e);
    at = found + 1;
  }
  return [];
}
