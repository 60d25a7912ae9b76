/**
 * Every shell block of README.md, docs/*.md and examples/NAME/README.md that is not marked
 * `<!-- not-run: REASON -->` or `<!-- run: moto -->` runs here, file by file, in one bash session per
 * file (see run-blocks.ts), and its `# =>` lines must appear in what it prints. An integration test:
 * the blocks train and serve models through real processes (no Docker, no AWS, no Python).
 */
import { describe, expect, it } from 'vitest';
import {
  expectedOutput,
  missingOutput,
  readDocBlocks,
  SHELL_LANGS,
  type CodeBlock,
} from './markdown-blocks.js';
import { runSession } from './run-blocks.js';

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
      for (const run of session.blocks) {
        const where = `${run.block.file}:${run.block.line}`;
        const tail = run.output.split('\n').slice(-40).join('\n');
        expect(run.completed, `${where} failed (bash exit ${session.code}):\n${tail}`).toBe(true);
        expect(
          missingOutput(run.output, expectedOutput(run.block.code)),
          `${where} did not print its documented output; it printed:\n${tail}`,
        ).toEqual([]);
      }
    },
    480_000,
  );
});
