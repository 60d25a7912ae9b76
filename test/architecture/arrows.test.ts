import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  type ForbiddenArrow,
  forbiddenImports,
  type ImportGraph,
  importCycles,
  importsOf,
  readImportGraph,
} from './import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The layering every module keeps (README, Architecture). Type-only imports count too: a type import
 * ties the layers together as much as a value import does.
 */
const RULES: readonly ForbiddenArrow[] = [
  {
    from: /^algorithms\//,
    to: /^src\/(train|serve|local|cli)\//,
    why: 'algorithms see only their context; they may import src/contract, src/io, src/util, src/report',
  },
  { from: /^src\/serve\//, to: /^src\/train\//, why: 'serving must not depend on training' },
  { from: /^src\/train\//, to: /^src\/serve\//, why: 'training must not depend on serving' },
];

const graph = readImportGraph(ROOT, ['src', 'algorithms']);

describe('import arrows', () => {
  test('the graph covers src/ and algorithms/', () => {
    expect(graph.has('src/train/runner.ts')).toBe(true);
    expect(graph.has('algorithms/kmeans/index.ts')).toBe(true);
    expect(graph.get('src/train/runner.ts')!.map((edge) => edge.to)).toContain('algorithms/index.ts');
  });

  test('no module imports across a forbidden arrow', () => {
    expect(forbiddenImports(graph, RULES)).toEqual([]);
  });

  test('no import cycles (type-only and dynamic imports count: they tie modules together as well)', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});

describe('cheap descriptors', () => {
  test('importing the algorithm list loads no training, model or math code (serve cold start)', () => {
    const loaded = new Set<string>();
    const pending = ['algorithms/index.ts'];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (loaded.has(file)) continue;
      loaded.add(file);
      for (const edge of graph.get(file) ?? []) if (!edge.dynamic && !edge.typeOnly) pending.push(edge.to);
    }
    expect(
      [...loaded].filter((file) => /\/(train|model|report|stream)\.ts$|\/math\/|^src\/report\//.test(file)),
    ).toEqual([]);
    expect(loaded.has('algorithms/kmeans/hyperparameters.ts')).toBe(true);
  });
});

describe('the checker itself', () => {
  const planted: ImportGraph = new Map([
    ['algorithms/x/index.ts', [{ to: 'src/train/exchange.ts', typeOnly: true, dynamic: false }]],
    ['src/serve/a.ts', [{ to: 'src/serve/b.ts', typeOnly: false, dynamic: false }]],
    ['src/serve/b.ts', [{ to: 'src/serve/a.ts', typeOnly: false, dynamic: true }]],
    ['src/train/exchange.ts', [{ to: 'src/contract/index.ts', typeOnly: false, dynamic: false }]],
    ['src/contract/index.ts', []],
  ]);

  test('a planted type-only import from algorithms/ into src/train is caught', () => {
    expect(forbiddenImports(planted, RULES)).toEqual([
      `algorithms/x/index.ts -> src/train/exchange.ts (${RULES[0]!.why})`,
    ]);
  });

  test('a planted cycle through a dynamic import is caught', () => {
    expect(importCycles(planted)).toEqual(['src/serve/a.ts <-> src/serve/b.ts']);
  });

  test('imports are read by the parser: type-only, dynamic and re-exports count, comments do not', () => {
    const source = [
      "import type { A } from './a.js';",
      "import { type B, c } from './b.js';",
      "export { d } from './d.js';",
      "// import { e } from './e.js';",
      "/** await import('./f.js') */",
      "const g = await import('./g.js');",
      "const h = '../../src/train/runner.js';",
    ].join('\n');
    expect(importsOf('x.ts', source)).toEqual([
      { specifier: './a.js', typeOnly: true, dynamic: false },
      { specifier: './b.js', typeOnly: false, dynamic: false },
      { specifier: './d.js', typeOnly: false, dynamic: false },
      { specifier: './g.js', typeOnly: false, dynamic: true },
    ]);
  });
});
