/**
 * Every TypeScript block of README.md, docs/*.md and examples/NAME/README.md compiles against the
 * package's public exports: each block becomes a module under .scratch/docs-ts/ and `tsc` (the
 * project's strict options) checks them with `smkit`, `smkit/serve`, ... mapped to the sources the
 * package.json "exports" build from. A block may import only those subpaths (and node: modules), as a
 * user of the installed package can.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

  it('compile with the project options against the package exports', async () => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const files = blocks.map((block) => {
      const name = `${block.file.replace(/[/.]/g, '-')}-${block.line}.ts`;
      const file = path.join(scratch, name);
      // `export {}` keeps a block without imports a module (top-level await, no global clashes).
      writeFileSync(file, `${block.code}\nexport {};\n`);
      return { file, where: `${block.file}:${block.line}` };
    });
    // tsc in a child process: a minute of type checking would block this worker's RPC with vitest.
    writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '../..', baseUrl: '../..', paths: exportPaths() },
        include: files.map((f) => path.basename(f.file)),
      }),
    );
    const output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [
          path.join(root, 'node_modules/typescript/bin/tsc'),
          '-p',
          path.join(scratch, 'tsconfig.json'),
          '--pretty',
          'false',
        ],
        { cwd: root, maxBuffer: 16 * 1024 * 1024 },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    const where = new Map(files.map((f) => [path.basename(f.file), f.where]));
    // `.scratch/docs-ts/README-md-73.ts(5,3): error TS2304: ...` -> `README.md:73 (+5): error TS2304: ...`
    const errors = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) =>
        line.replace(/^\S*?([\w-]+\.ts)\((\d+),\d+\): /, (all, name: string, row: string) =>
          where.has(name) ? `${where.get(name)} (+${row}): ` : all,
        ),
      );
    expect(errors).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(6);
  }, 300_000);
});
