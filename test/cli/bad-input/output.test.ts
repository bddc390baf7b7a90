// Bad inputs around the output (issue #13 items 1, 8, 9, 17): -o is written to a temporary file
// and renamed over the user's file only when the run produced its replacement; stdout gets a whole
// document on every exit path but SIGKILL.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BUNDLED } from '../cli.js';
import { catalogue, SMALL, workloadWith, written } from './catalogue.js';

const BROKEN =
  'import { defineWorkload } from "cmascope";\nexport default defineWorkload({ name: ;\n';
/** Snapshots every 100 ms, then a throw at 1 s. */
const THROWS = workloadWith("    yield sys.sleep('1s');\n    throw new Error('gave up');");
const KEEP = 'keep\n';

/** stdout parses as JSON and holds `n` snapshots */
const jsonSnapshots = (stdout: string, n: number) => {
  const out = JSON.parse(stdout) as { simTimeNs: number }[];
  expect(out.map((s) => s.simTimeNs)).toEqual(Array.from({ length: n }, (_, i) => (i + 1) * 1e8));
};

catalogue('-o never loses the file it names', [
  {
    name: 'a workload with a syntax error keeps the previous -o file',
    files: { 'prev.json': KEEP, 'broken.ts': BROKEN },
    args: ['run', 'broken.ts', '-o', 'prev.json'],
    exit: 2,
    stderr: 'cmascope: broken.ts:2:39: Unexpected ";"',
  },
  {
    name: 'a bad --set keeps the previous -o file',
    files: { 'prev.json': KEEP, 'w.ts': SMALL },
    args: ['run', 'w.ts', '--set', 'nope=1', '-o', 'prev.json'],
    exit: 2,
    stderr: /^cmascope: (TypeError: )?unknown parameter 'nope': the workload has size$/,
  },
  {
    name: 'a bad --policy keeps the previous -o file',
    files: { 'prev.json': KEEP, 'w.ts': SMALL },
    args: ['run', 'w.ts', '--policy', 'teePin=v3', '-o', 'prev.json'],
    exit: 2,
    stderr: /^cmascope: policy teePin=v3 is not valid/,
  },
  {
    name: 'a bad --interval keeps the previous -o file',
    files: { 'prev.json': KEEP, 'w.ts': SMALL },
    args: ['run', 'w.ts', '--interval', 'soon', '-o', 'prev.json'],
    exit: 2,
    stderr: "cmascope: invalid --interval 'soon': expected a duration of at least 1ms, e.g. '1s'",
  },
  {
    name: 'a workload that throws while running keeps the previous -o file',
    files: { 'prev.json': KEEP, 'w.ts': THROWS },
    args: ['run', 'w.ts', '-f', 'json', '--interval', '100ms', '-o', 'prev.json'],
    exit: 1,
    stderr: /^cmascope: w\.ts:\d+:\d+: gave up$/,
  },
  {
    name: 'a workload missing keeps the previous -o file',
    files: { 'prev.json': KEEP },
    args: ['run', 'gone.ts', '-o', 'prev.json'],
    exit: 2,
    stderr: `cmascope: no such workload file: gone.ts (bundled workloads: ${BUNDLED})`,
  },
  {
    name: '-o naming the workload itself is refused',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', 'w.ts'],
    exit: 2,
    stderr: 'cmascope: -o w.ts is the workload itself: choose another output file',
  },
  {
    name: '-o naming the workload by another path is refused',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', '{dir}/./w.ts'],
    exit: 2,
    stderr: /^cmascope: -o .*\/\.\/w\.ts is the workload itself: choose another output file$/,
  },
  {
    name: '-o naming a module the workload imports is refused',
    files: {
      'w.ts': `import { SIZE } from './sizes.js';\n${SMALL.replace("'16MiB'", 'SIZE')}`,
      'sizes.ts': "export const SIZE = '16MiB';\n",
    },
    args: ['run', 'w.ts', '-o', 'sizes.ts'],
    exit: 2,
    stderr: 'cmascope: -o sizes.ts is a file the workload imports: choose another output file',
  },
  {
    name: '-o a directory is refused',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', '.'],
    exit: 2,
    stderr: 'cmascope: -o . is a directory',
  },
  {
    name: '-o in a directory that does not exist is refused before the run',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', 'no/such/dir/out.json'],
    exit: 2,
    // the error names the user's path, not the temporary file beside it
    stderr: 'cmascope: cannot write -o no/such/dir/out.json: ENOENT: no such file or directory',
  },
  {
    name: '--trace naming a directory is refused by its own name',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '--trace', '.'],
    exit: 2,
    stderr: 'cmascope: --trace . is a directory',
  },
  {
    name: '--trace in a directory that does not exist is refused before the run',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '--trace', 'no/such/dir/t.txt'],
    exit: 2,
    stderr: 'cmascope: cannot write --trace no/such/dir/t.txt: ENOENT: no such file or directory',
  },
  {
    name: '-o /dev/full: the write error in one line, exit 1',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-f', 'json', '-o', '/dev/full'],
    exit: 1,
    stderr: 'cmascope: writing /dev/full: ENOSPC: no space left on device, write',
  },
  // not a usage error: the Error that `capture` and `import` do not catch reaches the command
  // line's last handler, which makes every error but a UsageError a runtime error (exit 1)
  {
    name: 'capture -o /dev/full: a runtime error, not a usage error, exit 1',
    args: ['capture', '-o', '/dev/full'],
    exit: 1,
    stderr: 'cmascope: writing /dev/full: ENOSPC: no space left on device, write',
  },
  {
    name: '-o /dev/null is written in place, not renamed over',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', '/dev/null'],
    exit: 0,
    stderr: '',
  },
  {
    name: '-o with --watch is refused: watch mode writes a stream to stdout',
    files: { 'w.ts': SMALL, 'prev.json': KEEP },
    args: ['run', 'w.ts', '--watch', '-f', 'ndjson', '-o', 'prev.json'],
    exit: 2,
    stderr: 'cmascope: --watch writes a stream to stdout: -o cannot be used with it',
  },
  {
    name: 'a good run replaces the previous -o file whole',
    files: { 'prev.json': KEEP, 'w.ts': SMALL },
    args: ['run', 'w.ts', '-f', 'json', '-o', 'prev.json'],
    writes: ['prev.json'],
    exit: 0,
    stderr: '',
    check: (_r, dir) => {
      const out = JSON.parse(written(dir, 'prev.json')) as { simTimeNs: number }[];
      expect(out.map((s) => s.simTimeNs)).toEqual([1_006_144_000]);
    },
  },
  {
    name: 'a --fail-on that holds still writes the -o file (exit 3)',
    files: { 'prev.csv': KEEP, 'w.ts': SMALL },
    args: ['run', 'w.ts', '-f', 'csv', '-o', 'prev.csv', '--fail-on', 'MemTotal>0'],
    writes: ['prev.csv'],
    exit: 3,
    stderr: 'cmascope: --fail-on MemTotal>0: condition met',
    check: (_r, dir) => expect(written(dir, 'prev.csv').split('\r\n')).toHaveLength(3),
  },
]);

catalogue('-o through a symbolic link replaces the file, not the link', [
  {
    name: 'the link stays a link to the new data',
    files: { 'w.ts': SMALL, 'real.prom': KEEP },
    args: ['run', 'w.ts', '-f', 'prom', '-o', 'link.prom'],
    writes: ['real.prom', 'link.prom'],
    exit: 0,
    stderr: '',
    check: (_r, dir) => {
      expect(written(dir, 'link.prom')).toMatch(/^# HELP/);
      expect(written(dir, 'real.prom')).toBe(written(dir, 'link.prom'));
    },
    setup: (dir: string) => symlinkSync(join(dir, 'real.prom'), join(dir, 'link.prom')),
  },
]);

catalogue('stdout is a whole document on every exit path', [
  {
    name: '-f json after a runtime error: the snapshots so far, a valid JSON array',
    files: { 'w.ts': THROWS },
    args: ['run', 'w.ts', '-f', 'json', '--interval', '100ms'],
    exit: 1,
    stderr: /^cmascope: w\.ts:\d+:\d+: gave up$/,
    check: (r) => jsonSnapshots(r.stdout, 9), // the throw at 1 s comes before the 1 s snapshot
  },
  {
    name: '-f csv after a runtime error: the rows so far under their header',
    files: { 'w.ts': THROWS },
    args: ['run', 'w.ts', '-f', 'csv', '--interval', '500ms'],
    exit: 1,
    stderr: /^cmascope: w\.ts:\d+:\d+: gave up$/,
    check: (r) =>
      expect(r.stdout.split('\r\n').map((l) => l.split(',')[0])).toEqual([
        'simTimeNs',
        '500000000',
        '',
      ]),
  },
  {
    name: '-f json of a workload that does not load: nothing at all on stdout',
    files: { 'broken.ts': BROKEN },
    args: ['run', 'broken.ts', '-f', 'json'],
    exit: 2,
    stderr: 'cmascope: broken.ts:2:39: Unexpected ";"',
    check: (r) => expect(r.stdout).toBe(''),
  },
]);

catalogue('options that do what was asked, probably not what was meant: a note', [
  {
    name: '-o json without -f: the text report in a file named json, and a note saying so',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-o', 'json'],
    writes: ['json'],
    exit: 0,
    stderr:
      "cmascope: note: -o json writes the text report to a file named 'json'; for that format: -f json",
    check: (_r, dir) => expect(written(dir, 'json')).toMatch(/^cmascope report/),
  },
  ...['prom', 'text'].map((f) => ({
    name: `--interval with -f ${f}: a note that only the final snapshot is shown`,
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '-f', f, '--interval', '100ms'],
    exit: 0,
    stderr: `cmascope: note: -f ${f} shows the final snapshot only: --interval has no effect (use ndjson, json, csv or openmetrics)`,
  })),
]);

catalogue('--interval', [
  ...['0', '0s', '1ns', '999us', 'soon', '1 parsec'].map((v) => ({
    name: `--interval ${v} is below the 1 ms floor`,
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '--interval', v],
    exit: 2,
    stderr: `cmascope: invalid --interval '${v}': expected a duration of at least 1ms, e.g. '1s'`,
  })),
  {
    name: '--interval=-1s is not a duration',
    files: { 'w.ts': SMALL },
    args: ['run', 'w.ts', '--interval=-1s'],
    exit: 2,
    stderr: "cmascope: invalid --interval '-1s': expected a duration of at least 1ms, e.g. '1s'",
  },
]);
