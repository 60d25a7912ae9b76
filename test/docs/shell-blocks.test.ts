/**
 * Every shell block of README.md, docs/*.md and examples/NAME/README.md that is not marked
 * `<!-- not-run: REASON -->` or `<!-- run: moto -->` runs here, file by file, in one bash session per
 * file (see run-blocks.ts), and its `# =>` lines must appear in what it prints. An integration test:
 * the blocks train and serve models through real processes (no Docker, no AWS, no Python).
 */
import { describe, expect, it } from 'vitest';
import { type CodeBlock, readDocBlocks, SHELL_LANGS } from './markdown-blocks.js';
import { runSession, sessionProblems } from './run-blocks.js';

const runnable = readDocBlocks().filter((b) => SHELL_LANGS.has(b.lang) && b.marker.kind === 'run');
const byFile = new Map<string, CodeBlock[]>();
for (const block of runnable) byFile.set(block.file, [...(byFile.get(block.file) ?? []), block]);

describe('the shell blocks of the docs run as written', () => {
  it('finds blocks to run in README.md', () => {
    expect(byFile.get('README.md')?.length).toBeGreaterThan(3);
  });

  it.each([...byFile])(
    '%s',
    async (_file, blocks) => {
      const session = await runSession(blocks, { timeoutMs: 420_000 });
      expect(sessionProblems(session)).toEqual([]);
    },
    480_000,
  );
});
