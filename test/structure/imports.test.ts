// The module graph of src/ stays a layering: no import cycle, the kernel knows none of its
// drivers (kernel/boot.ts composes them), and the snapshot (metrics/) knows nothing of how a
// workload runs. The graph comes from the TypeScript compiler's own module resolution.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/**
 * Every import and re-export of each file in src/ that resolves into src/, by path from src/;
 * `import type` counts too, as a header's struct does in C.
 */
function moduleGraph(): Map<string, string[]> {
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const edges: string[] = [];
    for (const st of sf.statements) {
      const spec =
        ts.isImportDeclaration(st) || ts.isExportDeclaration(st) ? st.moduleSpecifier : undefined;
      if (!spec || !ts.isStringLiteral(spec)) continue;
      const r = ts.resolveModuleName(spec.text, file, options, ts.sys).resolvedModule;
      if (r && !r.isExternalLibraryImport && r.resolvedFileName.startsWith(SRC)) {
        edges.push(relative(SRC, r.resolvedFileName));
      }
    }
    graph.set(relative(SRC, file), edges);
  }
  return graph;
}

/** The strongly connected components of more than one module (Tarjan): the import cycles. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const graph = moduleGraph();
const importsOf = (from: (f: string) => boolean, to: (f: string) => boolean): string[] =>
  [...graph].flatMap(([f, edges]) => (from(f) ? edges.filter(to).map((t) => `${f} -> ${t}`) : []));
const under = (dir: string) => (f: string) => f.startsWith(dir);

describe('the module graph of src/', () => {
  it('is read whole: the kernel, its drivers, the workload host, the exporters', () => {
    expect(graph.get('kernel/boot.ts')).toContain('kernel/kernel.ts');
    expect(graph.get('kernel/task.ts')).toContain('kernel/mm/mmap.ts'); // `import type { Mm }`
    expect(importsOf(under('kernel/boot.ts'), under('kernel/drivers/')).length).toBe(3);
    expect(graph.size).toBeGreaterThan(100);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([...g, ['c', ['d']]]))).toEqual([]);
  });

  it('has no import cycle, type-only or not', () => {
    // the structs a lower module needs of a higher one are small interfaces it declares, as a C
    // header declares `struct mm_struct;`: Memory (memory.ts), LockedVm and MmVm (charge.ts)
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps the kernel core apart from its drivers: only boot and the system calls compose them', () => {
    const composers = new Set(['kernel/boot.ts', 'kernel/syscalls.ts']);
    expect(
      importsOf(
        (f) => under('kernel/')(f) && !under('kernel/drivers/')(f) && !composers.has(f),
        under('kernel/drivers/'),
      ),
    ).toEqual([]);
  });

  it('layers: the kernel knows no run, the snapshot no workload host', () => {
    const above = ['workload/', 'metrics/', 'tui/', 'cli/', 'device/', 'compare/'];
    expect(importsOf(under('kernel/'), (t) => above.some((d) => t.startsWith(d)))).toEqual([]);
    expect(importsOf(under('sim/'), (t) => !t.startsWith('sim/'))).toEqual([]);
    expect(
      importsOf(under('metrics/'), (t) =>
        ['workload/', 'tui/', 'cli/'].some((d) => t.startsWith(d)),
      ),
    ).toEqual([]);
  });
});
