/**
 * The import graph of server/: which file imports which (import and export declarations,
 * `import()` expressions and `import('…')` types; type-only imports marked), which folder imports
 * which, and the cycles of both. test/unit/server-layers.test.ts checks it; run it to see it:
 *
 *   node --import tsx scripts/importGraph.ts [--files]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Paths relative to server/, e.g. `core/modelIO.ts`. */
  from: string;
  to: string;
  /** `import type`, `export type`, an `import('…')` type, or named imports that are all types: gone at run time. */
  typeOnly: boolean;
}

const SERVER = resolve(__dirname, '..', 'server');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'build' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The server file a relative specifier names (`./x`, `./x.ts`, `./dir` with index.ts); undefined for packages and other parts. */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
  return found && found.startsWith(SERVER + '/') ? found : undefined;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    !clause.name &&
    named !== undefined &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
}

/** Every import between server files. */
export function serverImports(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(SERVER)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (specifier: ts.Node | undefined, typeOnly: boolean): void => {
      if (!specifier || !ts.isStringLiteral(specifier)) return;
      const target = resolveSpecifier(file, specifier.text);
      if (target) edges.push({ from: relative(SERVER, file), to: relative(SERVER, target), typeOnly });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyImport(node));
      else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return edges;
}

/** `core` for `core/modelIO.ts`. */
export function folderOf(serverPath: string): string {
  return serverPath.split('/')[0];
}

/** Folder → the folders it imports, each with the file imports that make the edge. */
export function folderGraph(edges: ImportEdge[]): Map<string, Map<string, ImportEdge[]>> {
  const graph = new Map<string, Map<string, ImportEdge[]>>();
  for (const edge of edges) {
    const [from, to] = [folderOf(edge.from), folderOf(edge.to)];
    if (from === to) continue;
    const targets = graph.get(from) ?? new Map<string, ImportEdge[]>();
    graph.set(from, targets);
    targets.set(to, [...(targets.get(to) ?? []), edge]);
  }
  return graph;
}

/** The strongly connected components with more than one node (Tarjan): each is a cycle or several. */
export function cycles(nodes: Iterable<string>, next: (node: string) => Iterable<string>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const other of next(node)) {
      if (!index.has(other)) {
        visit(other);
        low.set(node, Math.min(low.get(node)!, low.get(other)!));
      } else if (onStack.has(other)) low.set(node, Math.min(low.get(node)!, index.get(other)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

/**
 * Cycles among server folders: each strongly connected set of folders, with one loop through it
 * (the shortest from its first folder back to it) and, per step, an import that makes the step.
 */
export function folderCycles(edges: ImportEdge[]): { folders: string[]; loop: ImportEdge[] }[] {
  const graph = folderGraph(edges);
  return cycles(graph.keys(), (folder) => graph.get(folder)?.keys() ?? []).map((folders) => {
    const inside = new Set(folders);
    // Breadth-first from the first folder until a step leads back to it.
    const start = folders[0];
    const cameFrom = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length > 0 && last === undefined) {
      const folder = queue.shift()!;
      for (const next of graph.get(folder)?.keys() ?? []) {
        if (next === start) {
          last = folder;
          break;
        }
        if (inside.has(next) && !cameFrom.has(next)) {
          cameFrom.set(next, folder);
          queue.push(next);
        }
      }
    }
    const path = [start];
    for (let folder = last!; folder !== start; folder = cameFrom.get(folder)!) path.splice(1, 0, folder);
    const loop = path.map((from, i) => graph.get(from)!.get(path[(i + 1) % path.length])![0]);
    return { folders, loop };
  });
}

/** `core → models → core (core/a.ts → models/b.ts, models/b.ts → core/c.ts)`. */
export function describeLoop({ loop }: { loop: ImportEdge[] }): string {
  const folders = [...loop.map((e) => folderOf(e.from)), folderOf(loop[0].from)];
  return `${folders.join(' → ')} (${loop.map((e) => `${e.from} → ${e.to}`).join(', ')})`;
}

/** Cycles among server files through imports that exist at run time (type-only imports left out). */
export function valueFileCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) if (!edge.typeOnly) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  return cycles(next.keys(), (file) => next.get(file) ?? []);
}

if (require.main === module) {
  const edges = serverImports();
  const graph = folderGraph(edges);
  for (const [from, targets] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${from.padEnd(9)} → ${[...targets.keys()].sort().join(' ')}`);
    if (process.argv.includes('--files'))
      for (const e of [...targets.values()].flat()) console.log(`    ${e.from} → ${e.to}${e.typeOnly ? ' (type)' : ''}`);
  }
  const folderLoops = folderCycles(edges);
  const fileLoops = valueFileCycles(edges);
  console.log(`folder cycles: ${folderLoops.length ? folderLoops.map(describeLoop).join('; ') : 'none'}`);
  console.log(`file cycles (run-time imports): ${fileLoops.length ? fileLoops.map((c) => c.join(' ↔ ')).join('; ') : 'none'}`);
}
