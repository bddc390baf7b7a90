// docs/workloads.md stays true: every complete example in it runs, and every
// `$ cmascope run <example> ... -f json | jq -c '.[-1].results'` shown prints the results shown.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
