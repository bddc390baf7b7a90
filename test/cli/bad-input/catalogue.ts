// The bad-input catalogue (issue #13): what a hostile or careless user can give the real CLI, and
// what must come back. Each case runs `cmascope <args>` in a fresh temporary directory holding
// `files`, and asserts the exit code, the first line of stderr (the message naming the cause),
// that no stack trace reaches the user, and that every file the user had is still there,
// byte for byte, unless the case says it may change.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, cmascope } from '../cli.js';

export interface BadInput {
  /** what the user did */
  name: string;
  /** argv after `cmascope`; `{dir}` stands for the case's directory */
  args: string[];
  /** files in the case's directory before the run (the user's own: none may be lost) */
  files?: Record<string, string>;
  exit: number;
  /** the first line of stderr: exactly, or matching */
  stderr: string | RegExp;
  /** files that the run is meant to write or replace */
  writes?: string[];
  /** makes what `files` cannot (links, FIFOs) in `dir` before the run */
  setup?: (dir: string) => void;
  /** further checks on the result (stdout, written files, in `dir`) */
  check?: (r: CliResult, dir: string) => void | Promise<void>;
  timeoutMs?: number;
  /** the peak resident memory of the CLI and every process it started, MiB, at most */
  maxRssMb?: number;
}

/** A small valid workload: one process maps and touches 16 MiB, records it, then exits. */
export const SMALL = `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'small',
  machine: { memory: '256MiB', cma: [{ name: 'svp', size: '32MiB' }] },
  params: { size: '16MiB' },
  *main(sys, params) {
    const b = yield* sys.mmapAnon(params.size);
    if (typeof b === 'string') return sys.record('mmap', b);
    sys.record('touched', yield* sys.touch(b));
    yield sys.sleep('1s');
  },
});
`;

/** A workload whose body is `body` (lines inside `*main(sys, params) { ... }`). */
export const workloadWith = (body: string, extra = ''): string =>
  `import { defineWorkload } from 'cmascope';
${extra}
export default defineWorkload({
  name: 'w',
  machine: { memory: '256MiB', cma: [{ name: 'svp', size: '32MiB' }] },
  params: { n: 1 },
  *main(sys, params) {
${body}
  },
});
`;

/** Run every case of a catalogue as a concurrent test. */
export function catalogue(title: string, cases: readonly BadInput[]): void {
  describe.concurrent(title, () => {
    for (const c of cases) it(c.name, () => runCase(c), (c.timeoutMs ?? 60_000) + 30_000);
  });
}

async function runCase(c: BadInput): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cmascope-bad-'));
  try {
    const files = c.files ?? {};
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    c.setup?.(dir);
    const args = c.args.map((a) => a.replaceAll('{dir}', dir));
    const r = await cmascope(args, {
      cwd: dir,
      timeoutMs: c.timeoutMs ?? 60_000,
      sampleRss: c.maxRssMb !== undefined,
    });
    const first = r.stderr.split('\n')[0];
    if (typeof c.stderr === 'string') expect(first).toBe(c.stderr);
    else expect(first).toMatch(c.stderr);
    expect(r.stderr).not.toMatch(/^\s+at |node:internal|FATAL ERROR/m); // no stack trace
    expect(r.signal).toBeNull();
    expect(r.code).toBe(c.exit);
    if (c.maxRssMb !== undefined) expect(r.peakRssMb).toBeLessThan(c.maxRssMb);
    for (const [name, text] of Object.entries(files)) {
      if (c.writes?.includes(name)) continue;
      expect(await readFile(join(dir, name), 'utf8'), `${name} was changed`).toBe(text);
    }
    // nothing left behind: no temporary output next to the user's files
    const left = readdirSync(dir).filter((f) => !(f in files) && !c.writes?.includes(f));
    expect(left, 'files left in the directory').toEqual([]);
    await c.check?.(r, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text of a file a case wrote. */
export const written = (dir: string, name: string): string => readFileSync(join(dir, name), 'utf8');
