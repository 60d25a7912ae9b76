/**
 * Quick checks of the docs (unit tier): every shell block is run or says why not, the performance
 * table is what scripts/perf-table.ts makes of the committed bench results, and every repository path
 * the docs name (the coverage table's tests first) exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PERF_END, PERF_START, perfRows, perfTable, withPerfTable } from '../../scripts/perf-table.js';
import {
  docFiles,
  expectedOutput,
  missingOutput,
  parseBlocks,
  readDocBlocks,
  SHELL_LANGS,
} from './markdown-blocks.js';
import { sessionProblems } from './run-blocks.js';

const readme = readFileSync('README.md', 'utf8');

describe('doc blocks', () => {
  it('are parsed with their markers, indented ones included', () => {
    const text = [
      '<!-- not-run: needs AWS -->',
      '```sh',
      'smkit deploy',
      '```',
      '- item',
      '',
      '  ```bash',
      '  ls',
      '  # => a',
      '  ```',
      '<!-- run: moto -->',
      '',
      '```ts',
      'const x = 1;',
      '```',
    ].join('\n');
    expect(
      parseBlocks(text, 'x.md').map(({ line, lang, code, marker }) => ({ line, lang, code, marker })),
    ).toEqual([
      { line: 2, lang: 'sh', code: 'smkit deploy\n', marker: { kind: 'not-run', reason: 'needs AWS' } },
      { line: 7, lang: 'bash', code: 'ls\n# => a\n', marker: { kind: 'run' } },
      { line: 13, lang: 'ts', code: 'const x = 1;\n', marker: { kind: 'moto' } },
    ]);
    expect(() => parseBlocks('<!-- not-run: -->\n```sh\nls\n```\n', 'y.md')).toThrow(
      /y.md:2: .*needs a reason/,
    );
    expect(() => parseBlocks('```sh\nls\n', 'z.md')).toThrow(/z.md:1: code block never closed/);
  });

  it('match documented output in order, with ... as a wildcard', () => {
    const code = 'smkit --version\n# => 0.1.0\nls\n# => a...\n# => c\n';
    expect(expectedOutput(code)).toEqual(['0.1.0', 'a...', 'c']);
    expect(missingOutput('0.1.0\nabc\nb\nc\n', expectedOutput(code))).toEqual([]);
    expect(missingOutput('c\n0.1.0\nabc\n', expectedOutput(code))).toEqual(['c']);
    expect(missingOutput('0.1.0 \n', ['0.1.']).length).toBe(1);
  });

  it('turn a session into the problems a reader would meet: the failed block, or output not as documented', () => {
    const [ok, drifted, failed] = parseBlocks(
      '```sh\na\n# => 1\n```\n```sh\nb\n# => 2\n```\n```sh\nc\n```\n',
      'x.md',
    );
    const run = (block: typeof ok, output: string, completed = true) => ({
      block: block!,
      output,
      completed,
    });
    expect(sessionProblems({ code: 0, blocks: [run(ok, '1\n'), run(drifted, '3\n')] })).toEqual([
      'x.md:5 did not print\n  2\nit printed:\n3\n',
    ]);
    expect(sessionProblems({ code: 1, blocks: [run(ok, '1\n'), run(failed, 'boom', false)] })).toEqual([
      'x.md:9 failed (bash exit 1):\nboom',
    ]);
  });

  it('cover README.md, docs/ and the examples, and every shell block is run or says why not', () => {
    const files = docFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/library.md', 'docs/serving.md']));
    const shell = readDocBlocks().filter((b) => SHELL_LANGS.has(b.lang));
    const notRun = shell.filter((b) => b.marker.kind === 'not-run');
    for (const block of notRun) {
      expect(
        block.marker.kind === 'not-run' && block.marker.reason.length,
        `${block.file}:${block.line}`,
      ).toBeGreaterThan(10);
    }
    // Most of the README runs: a new block is run unless someone says why it cannot be.
    const readmeShell = shell.filter((b) => b.file === 'README.md');
    expect(readmeShell.filter((b) => b.marker.kind === 'run').length).toBeGreaterThan(readmeShell.length / 2);
  });
});

describe('the performance table in README.md', () => {
  it('is what scripts/perf-table.ts generates from bench/results (npm run perf-table rewrites it)', () => {
    const start = readme.indexOf(PERF_START);
    const end = readme.indexOf(PERF_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end + PERF_END.length)).toBe(perfTable('bench/results'));
  });

  it('has a row with a peer ratio for every results file it knows', () => {
    const table = perfTable('bench/results');
    for (const file of [
      'serve',
      'kmeans',
      'pca',
      'ingest',
      'cold-start',
      'train-startup',
      'mme',
      'onnx-offthread',
      'transform',
    ]) {
      expect(table).toMatch(new RegExp(`\\| ${file}\\.json +\\|$`, 'm'));
    }
    expect(table).not.toMatch(/n\/a/);
  });

  it('shows n/a, not a crash, for a results file that lacks a field, and is rewritten between its markers', () => {
    expect(perfTable('/nonexistent')).toBe(
      [
        PERF_START,
        '| measurement | smkit | peer, same run | ratio | bench/results/ |',
        '| ----------- | ----- | -------------- | ----- | -------------- |',
        PERF_END,
      ].join('\n'),
    );
    expect(perfRows({ 'train-startup.json': { ratio: 2 } })[0]).toEqual([
      'Script-mode training overhead (a script writing one file)',
      'n/a',
      'the script run by bare node: n/a',
      '2x (+n/a); SIGTERM reaches the script in n/a',
      'train-startup.json',
    ]);
    // A results file whose shape changed (pca.json's results became an object) gives no rows, not a crash.
    expect(perfRows({ 'kmeans.json': { results: { regular: {} } }, 'ingest.json': { runs: 3 } })).toEqual([]);
    expect(withPerfTable(`a\n${PERF_START}\nold\n${PERF_END}\nb`, 'NEW')).toBe('a\nNEW\nb');
    expect(() => withPerfTable('no markers', 'NEW')).toThrow(/no <!-- perf-table:start/);
  });
});

describe('paths the docs name', () => {
  it('include a test file for every row of the contract coverage table, and those files exist', () => {
    const table = readme.slice(
      readme.indexOf('<!-- coverage-table:start -->'),
      readme.indexOf('<!-- coverage-table:end -->'),
    );
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
      .slice(1);
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      const tests = [...row.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]!);
      expect(tests.length, row).toBeGreaterThan(0);
      expect(
        tests.filter((file) => !existsSync(file)),
        row,
      ).toEqual([]);
    }
  });

  it('exist: every `path/...` in backticks or link under test/, src/, docs/, bench/, scripts/, algorithms/, examples/', () => {
    const missing: string[] = [];
    for (const file of docFiles()) {
      const text = readFileSync(file, 'utf8');
      const base = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
      const named = [
        ...[...text.matchAll(/`((?:test|src|docs|bench|scripts|algorithms|examples)\/[\w./-]*\w)`/g)].map(
          (m) => m[1]!,
        ),
        ...[...text.matchAll(/\]\(((?!https?:)[\w./-]+)(?:#[\w-]*)?\)/g)].map((m) =>
          new URL(m[1]!, `file:///${base}`).pathname.slice(1),
        ),
      ];
      for (const p of named) {
        if (/\.\.\./.test(p) || p.startsWith('docs/api')) continue;
        if (!existsSync(p)) missing.push(`${file}: ${p}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
