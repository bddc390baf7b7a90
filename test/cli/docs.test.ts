// docs/workloads.md stays true: every complete example in it runs, and every
// `$ cmascope run <example> ... -f json | jq -c '.[-1].results'` shown prints the results shown.
// The repository stands alone: nothing in it names the team's private directory beside it, and
// every section reference points at a section of docs/kernel-model.md that exists.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cmascope, ROOT } from './cli.js';

const doc = readFileSync(join(ROOT, 'docs', 'workloads.md'), 'utf8');
const blocks = [...doc.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  text: m[2]!,
}));

/** The complete examples, written out as `<name>.ts` (a workload dir outside the repository). */
const dir = mkdtempSync(join(tmpdir(), 'cmascope-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const examples = blocks
  .filter((b) => b.lang === 'ts' && b.text.includes('export default defineWorkload'))
  .map((b) => {
    const name = /name: '([\w-]+)'/.exec(b.text)![1]!;
    writeFileSync(join(dir, `${name}.ts`), b.text);
    return name;
  });

const JQ = " | jq -c '.[-1].results'";
const commands = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => {
    const lines = b.text.split('\n');
    return lines.flatMap((line, i) =>
      line.startsWith('$ cmascope run ') && line.endsWith(JQ)
        ? [
            {
              command: line.slice(2),
              args: line.slice(11, -JQ.length).split(' '),
              out: lines[i + 1]!,
            },
          ]
        : [],
    );
  });

describe('docs/workloads.md', () => {
  it('has its three complete examples and their commands', () => {
    expect(examples).toEqual(['first', 'pinned', 'memlock']);
    expect(commands.map((c) => c.args[1])).toEqual([
      'first.ts',
      'first.ts',
      'pinned.ts',
      'pinned.ts',
      'pinned.ts',
      'memlock.ts',
      'memlock.ts',
      'memlock.ts',
    ]);
  });

  for (const c of commands) {
    it.concurrent(c.command, async ({ expect }) => {
      const args = c.args.map((a) => (a.endsWith('.ts') ? join(dir, a) : a));
      const r = await cmascope(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).at(-1).results).toEqual(JSON.parse(c.out));
    });
  }
});

/** The section sign, spelt so that this file does not reference a section itself. */
const SECT = '\u00a7';
/** The private directory beside the repository that nothing may need. */
const PRIVATE = `../${'shared'}`;
/** Directories that are not the repository's own text. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', '.out']);

/** Every text file under `dir`, relative to ROOT. */
function repoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : repoFiles(path);
    return e.isFile() ? [relative(ROOT, path)] : [];
  });
}

/** The numbered sections of a markdown page ("## 2. CMA", "### 7.A ..."), with their list items. */
function sections(doc: string): Map<string, number> {
  const out = new Map<string, number>();
  let current: string | undefined;
  for (const line of doc.split('\n')) {
    const h = /^#{2,3} (\d+(?:\.[0-9A-Z]+)?)\.? /.exec(line);
    if (h) {
      current = h[1]!;
      out.set(current, 0);
      continue;
    }
    const item = /^(\d+)\. /.exec(line);
    if (item && current !== undefined)
      out.set(current, Math.max(out.get(current)!, Number(item[1])));
  }
  return out;
}

/** The section references of `text` that do not resolve in `secs`, as "line: reference". */
function badReferences(text: string, secs: Map<string, number>): string[] {
  const bad: string[] = [];
  const re = new RegExp(`${SECT}(\\d+(?:\\.[0-9A-Z]+)?)?(?: items? (\\d+)(?:[–-](\\d+))?)?`, 'g');
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(re)) {
      const items = m[1] === undefined ? undefined : secs.get(m[1]);
      const item = Number(m[3] ?? m[2] ?? 0);
      if (items === undefined || item > items) bad.push(`${i + 1}: ${m[0]}`);
    }
  });
  return bad;
}

describe('the repository stands alone', () => {
  const model = readFileSync(join(ROOT, 'docs', 'kernel-model.md'), 'utf8');
  const secs = sections(model);
  const texts = repoFiles(ROOT)
    .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }))
    .filter((f) => !f.text.includes('\0'));

  it('reads the sections of docs/kernel-model.md and checks references against them', () => {
    expect(secs.get('2.3')).toBe(0);
    expect(secs.get('7.C')).toBe(0);
    expect(secs.get('6')).toBe(9);
    expect(secs.get('8.1')).toBe(10);
    const doc = sections('## 1. One\n\n### 1.1 Sub\n\n1. a\n2. b\n\n### 7.A Cases\n');
    expect(badReferences(`ok ${SECT}1 ${SECT}1.1 item 2 ${SECT}7.A`, doc)).toEqual([]);
    expect(
      badReferences(`${SECT}1.2 and ${SECT}1.1 item 3\n${SECT}1.1 items 1–4 ${SECT} x`, doc),
    ).toEqual([`1: ${SECT}1.2`, `1: ${SECT}1.1 item 3`, `2: ${SECT}1.1 items 1–4`, `2: ${SECT}`]);
  });

  it(`names ${PRIVATE} nowhere`, () => {
    expect(texts.length).toBeGreaterThan(100);
    expect(texts.filter((f) => f.text.includes(PRIVATE)).map((f) => f.file)).toEqual([]);
  });

  it('points every section reference at a section of docs/kernel-model.md', () => {
    const bad = texts.flatMap((f) => badReferences(f.text, secs).map((b) => `${f.file}:${b}`));
    expect(bad).toEqual([]);
  });
});
