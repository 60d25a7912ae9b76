import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import of a module: the repository-relative file it resolves to, and whether it is type-only. */
export interface ImportEdge {
  readonly to: string;
  readonly typeOnly: boolean;
  /** `import('...')`: loaded when the code runs, not when the module loads. */
  readonly dynamic: boolean;
}

/** Every module's imports of other modules of the repository, by repository-relative path. */
export type ImportGraph = ReadonlyMap<string, readonly ImportEdge[]>;

function listTs(root: string, dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) files.push(...listTs(root, rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(rel);
  }
  return files;
}

/** The repository file a relative specifier names (`./x.js` is `./x.ts`), or `undefined` for packages. */
function resolve(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.posix.join(base, 'index.ts'), base];
  return candidates.find(
    (file) => existsSync(path.join(root, file)) && statSync(path.join(root, file)).isFile(),
  );
}

/** The imports in one file's source, found by TypeScript's parser (comments and strings never count). */
export function importsOf(
  file: string,
  source: string,
): { specifier: string; typeOnly: boolean; dynamic: boolean }[] {
  const found: { specifier: string; typeOnly: boolean; dynamic: boolean }[] = [];
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((element) => element.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

/** Reads the import graph of every .ts file under `dirs` (repository-relative) of the repository at `root`. */
export function readImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const graph = new Map<string, ImportEdge[]>();
  for (const file of dirs.flatMap((dir) => listTs(root, dir))) {
    const edges: ImportEdge[] = [];
    for (const { specifier, typeOnly, dynamic } of importsOf(
      file,
      readFileSync(path.join(root, file), 'utf8'),
    )) {
      const to = resolve(root, file, specifier);
      if (to) edges.push({ to, typeOnly, dynamic });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** A rule: files matching `from` must not import files matching `to`, type-only imports included. */
export interface ForbiddenArrow {
  readonly from: RegExp;
  readonly to: RegExp;
  readonly why: string;
}

/** Every import that breaks a rule, as `from -> to (why)`. */
export function forbiddenImports(graph: ImportGraph, rules: readonly ForbiddenArrow[]): string[] {
  const broken: string[] = [];
  for (const [from, edges] of graph) {
    for (const edge of edges) {
      for (const rule of rules) {
        if (rule.from.test(from) && rule.to.test(edge.to)) broken.push(`${from} -> ${edge.to} (${rule.why})`);
      }
    }
  }
  return broken.sort();
}

/**
 * The import cycles (strongly connected components of more than one module, or a module importing
 * itself), each as its sorted module list joined by ` <-> `. `include` picks the edges that count.
 */
export function importCycles(
  graph: ImportGraph,
  include: (edge: ImportEdge) => boolean = () => true,
): string[] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const connect = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const edge of graph.get(node) ?? []) {
      if (!include(edge) || !graph.has(edge.to)) continue;
      if (!indices.has(edge.to)) {
        connect(edge.to);
        low.set(node, Math.min(low.get(node)!, low.get(edge.to)!));
      } else if (onStack.has(edge.to)) {
        low.set(node, Math.min(low.get(node)!, indices.get(edge.to)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).some((edge) => include(edge) && edge.to === node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort().join(' <-> '));
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) connect(node);
  return cycles.sort();
}
