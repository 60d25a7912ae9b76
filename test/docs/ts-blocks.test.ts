/**
 * Every TypeScript block of README.md, docs/*.md and examples/NAME/README.md compiles against the
 * package's public exports: each block becomes a module under .scratch/docs-ts/ and `tsc` (the
 * project's strict options) checks them with `smkit`, `smkit/serve`, ... mapped to the sources the
 * package.json "exports" build from. A block may import only those subpaths (and node: modules), as a
 * user of the installed package can.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { readDocBlocks } from './markdown-blocks.js';

const root = process.cwd();
const scratch = path.join(root, '.scratch/docs-ts');

/** `smkit/x` -> the source of the file package.json's exports maps it to (dist/src/x.js -> src/x.ts). */
function exportPaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const file = typeof target === 'string' ? target : target.default;
    if (!file.endsWith('.js')) continue;
    const source = file.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts');
    paths[subpath === '.' ? 'smkit' : `smkit/${subpath.slice(2)}`] = [source];
  }
  return paths;
}

const blocks = readDocBlocks().filter((b) => b.lang === 'ts' || b.lang === 'typescript');

describe('the TypeScript blocks of the docs', () => {
  it('include an example for each extension point in docs/library.md', () => {
    const library = blocks.filter((b) => b.file === 'docs/library.md').map((b) => b.code);
    for (const api of [
      'Algorithm<',
      'ModelKind',
      'Decoder',
      'InferenceHooks',
      'runTrainingJob',
      'runServer',
    ]) {
      expect(
        library.some((code) => code.includes(api)),
        api,
      ).toBe(true);
    }
  });

  it('import only the public subpaths', () => {
    const allowed = new Set(Object.keys(exportPaths()));
    const imports = blocks.flatMap((b) =>
      [...b.code.matchAll(/from '([^']+)'/g)].map((m) => ({ where: `${b.file}:${b.line}`, spec: m[1]! })),
    );
    expect(imports.filter((i) => !allowed.has(i.spec) && !i.spec.startsWith('node:'))).toEqual([]);
  });

  it('compile with the project options against the package exports', () => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const files = blocks.map((block) => {
      const name = `${block.file.replace(/[/.]/g, '-')}-${block.line}.ts`;
      const file = path.join(scratch, name);
      // `export {}` keeps a block without imports a module (top-level await, no global clashes).
      writeFileSync(file, `${block.code}\nexport {};\n`);
      return { file, where: `${block.file}:${block.line}` };
    });
    const config = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(
      files.map((f) => f.file),
      { ...options, noEmit: true, baseUrl: root, paths: exportPaths() },
    );
    const where = new Map(files.map((f) => [path.resolve(f.file), f.where]));
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file) return text;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const block = where.get(path.resolve(d.file.fileName)) ?? d.file.fileName;
      return `${block} (+${line + 1}): ${text}`;
    });
    expect(errors).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
