// The bad-input catalogue of the workload worker (issue #13): runs that must end, and end with a
// message naming their cause — snapshots past the end, runaway memory, inputs that are not
// files, long honest runs, deadlocks, callbacks that would never run, determinism holes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { cmascope } from '../cli.js';
import { type BadInput, catalogue, SMALL, workloadWith } from './catalogue.js';

const lines = (s: string): string[] => s.trim().split('\n');
const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The workload line `body` is on (workloadWith) */
const BODY = 'w\\.ts:8:\\d+';

/** `expr` in a workload is refused where it is written (exit 1), with `message`. */
const refused = (expr: string, message: string): BadInput => ({
  name: `${expr} is refused at the call`,
  args: ['run', 'w.ts'],
  files: { 'w.ts': workloadWith(`    sys.record('x', String(${expr}));`) },
  exit: 1,
  stderr: new RegExp(`^cmascope: ${BODY}: TypeError: ${literal(message)}$`),
});
const REPRODUCIBLE = 'is not available in a workload: runs must be reproducible; use';
const CALLBACKS =
  "is not available in a workload: a workload runs in simulated time, where callbacks and promises never run; use generator functions and yield sys.sleep('1ms')";
const UTC = `${REPRODUCIBLE} toISOString() or the getUTC*() methods (local time depends on the machine)`;

const snapshots: BadInput[] = [
  {
    name: '--interval on a run without a duration: snapshots stop where the run ends',
    args: ['run', 'w.ts', '--interval', '1s', '-f', 'ndjson'],
    files: { 'w.ts': SMALL },
    exit: 0,
    stderr: '',
    check: async (r, dir) => {
      const plain = await cmascope(['run', 'w.ts', '-f', 'ndjson'], { cwd: dir });
      const out = lines(r.stdout);
      expect(out.length).toBeLessThan(5);
      expect(out.at(-1)).toBe(lines(plain.stdout).at(-1));
    },
  },
];

const determinism: BadInput[] = [
  refused(
    'crypto.randomUUID()',
    `crypto.randomUUID ${REPRODUCIBLE} sys.random('stream') (seeded by --seed)`,
  ),
  refused(
    'crypto.getRandomValues(new Uint8Array(4))',
    `crypto.getRandomValues ${REPRODUCIBLE} sys.random('stream') (seeded by --seed)`,
  ),
  refused(
    'performance.timeOrigin',
    `performance.timeOrigin ${REPRODUCIBLE} sys.now() (simulated time, ns)`,
  ),
  refused(
    'process.uptime()',
    `process.uptime ${REPRODUCIBLE} params (--set key=value) and sys.now()`,
  ),
  refused('process.pid', `process.pid ${REPRODUCIBLE} params (--set key=value) and sys.now()`),
  refused('process.env.HOME', `process.env ${REPRODUCIBLE} params (--set key=value) and sys.now()`),
  refused('new Date(0).toString()', `date.toString() ${UTC}`),
  refused('new Date(0).toLocaleString()', `date.toLocaleString() ${UTC}`),
  refused('new Date(0).getHours()', `date.getHours() ${UTC}`),
  refused("'' + new Date(0)", `date.toString() ${UTC}`),
  refused('Date()', `Date() ${REPRODUCIBLE} sys.now() (simulated time, ns)`),
  refused(
    'new Date(2024, 0, 1)',
    `new Date(year, month, ...) ${REPRODUCIBLE} new Date(Date.UTC(year, month, ...))`,
  ),
  {
    name: 'dates from explicit values work, in UTC',
    args: ['run', 'w.ts', '-f', 'json'],
    files: {
      'w.ts': workloadWith(
        "    sys.record('d', new Date(Date.UTC(2024, 0, 1)).toISOString() + new Date(0).getUTCHours());",
      ),
    },
    exit: 0,
    stderr: '',
    check: (r) => expect(JSON.parse(r.stdout).at(-1).results.d).toBe('2024-01-01T00:00:00.000Z0'),
  },
];

const callbacks: BadInput[] = [
  refused('setTimeout(() => sys.record("t", 1), 0)', `setTimeout() ${CALLBACKS}`),
  refused('setInterval(() => sys.record("t", 1), 1)', `setInterval() ${CALLBACKS}`),
  refused('setImmediate(() => sys.record("t", 1))', `setImmediate() ${CALLBACKS}`),
  refused('queueMicrotask(() => sys.record("t", 1))', `queueMicrotask() ${CALLBACKS}`),
  refused('new Promise((r) => r(1))', `new Promise() ${CALLBACKS}`),
  refused('Promise.resolve(1).then(() => sys.record("t", 1))', `Promise.resolve ${CALLBACKS}`),
];

/** A run that ends with actors waiting for each other (exit 1). */
const deadlock = (name: string, body: string, message: string): BadInput => ({
  name,
  args: ['run', 'w.ts'],
  files: { 'w.ts': workloadWith(body) },
  exit: 1,
  stderr: `cmascope: ${message}`,
});

const deadlocks: BadInput[] = [
  deadlock(
    'the main actor waits for itself',
    '    yield sys.wait(sys.pid);',
    "deadlock at t=0.000s: 'w'[100] waits for itself",
  ),
  deadlock(
    'the main actor and its child wait for each other',
    `    const main = sys.pid;
    const c = sys.spawn('c', {}, function* () {
      yield sys.wait(main);
    });
    yield sys.sleep('1s');
    yield sys.wait(c);`,
    "deadlock at t=1.000s: 'w'[100] waits for 'c'[101], 'c'[101] waits for 'w'[100]",
  ),
  deadlock(
    'two children wait for each other, the main actor for one of them',
    `    let b = 0;
    const a = sys.spawn('a', {}, function* (p) {
      yield p.sleep('2ms');
      yield sys.wait(b);
    });
    b = sys.spawn('b', {}, function* () {
      yield sys.wait(a);
    });
    yield sys.wait(a);`,
    "deadlock at t=0.002s: 'w'[100] waits for 'a'[101], 'a'[101] waits for 'b'[102], 'b'[102] waits for 'a'[101]",
  ),
  {
    name: 'a deadlock before the duration ends is reported all the same',
    args: ['run', 'w.ts', '--until', '1min', '--interval', '10s', '-f', 'ndjson'],
    files: { 'w.ts': workloadWith("    yield sys.sleep('3s');\n    yield sys.wait(sys.pid);") },
    exit: 1,
    stderr: "cmascope: deadlock at t=3.000s: 'w'[100] waits for itself",
  },
  {
    name: 'a child that is waited for and exits is no deadlock',
    args: ['run', 'w.ts'],
    files: {
      'w.ts': workloadWith(`    const c = sys.spawn('c', {}, function* (p) {
      yield p.sleep('1s');
    });
    yield sys.wait(c);`),
    },
    exit: 0,
    stderr: '',
  },
];

// a named pipe outside the cases' directories (a case's files are text)
const pipes = mkdtempSync(join(tmpdir(), 'cmascope-fifo-'));
const FIFO = join(pipes, 'w.ts');
execFileSync('mkfifo', [FIFO]);
afterAll(() => rmSync(pipes, { recursive: true, force: true }));

const ZERO = '/dev/zero is not a regular file but a character device';
const TOO_BIG = `${16 * 2 ** 20 + 3} bytes: a workload file may have at most 16777216 (16 MiB)`;

const inputs: BadInput[] = [
  { name: 'check /dev/zero', args: ['check', '/dev/zero'], exit: 2, stderr: `cmascope: ${ZERO}` },
  { name: 'run /dev/zero', args: ['run', '/dev/zero'], exit: 2, stderr: `cmascope: ${ZERO}` },
  {
    name: 'a directory as the workload',
    args: ['check', '{dir}'],
    files: { 'index.ts': SMALL },
    exit: 2,
    stderr: /^cmascope: \/\S+ is not a regular file but a directory$/,
  },
  {
    name: 'a named pipe as the workload',
    args: ['run', FIFO],
    exit: 2,
    stderr: `cmascope: ${FIFO} is not a regular file but a named pipe`,
  },
  {
    name: 'a workload file over 16 MiB',
    args: ['check', 'big.ts'],
    files: { 'big.ts': `//${'x'.repeat(16 * 2 ** 20)}\n` },
    exit: 2,
    stderr: `cmascope: big.ts has ${TOO_BIG}`,
  },
  {
    name: 'an import of /dev/zero',
    args: ['run', 'w.ts'],
    files: { 'w.ts': workloadWith("    sys.record('z', z);", "import z from '/dev/zero';") },
    exit: 2,
    stderr: `cmascope: w.ts:2:15: ${ZERO}`,
  },
  {
    name: 'an import of a named pipe',
    args: ['check', 'w.ts'],
    files: { 'w.ts': workloadWith("    sys.record('z', z);", `import z from '${FIFO}';`) },
    exit: 2,
    stderr: `cmascope: w.ts:2:15: ${FIFO} is not a regular file but a named pipe`,
  },
  {
    name: 'an import of a JSON file over 16 MiB',
    args: ['run', 'w.ts'],
    files: {
      'w.ts': workloadWith(
        "    sys.record('n', table.length);",
        "import table from './table.json';",
      ),
      'table.json': `"${'x'.repeat(16 * 2 ** 20)}"\n`,
    },
    exit: 2,
    stderr: `cmascope: w.ts:2:19: table.json has ${TOO_BIG}`,
  },
];

const loop = "    yield sys.sleep('1ms');\n    let n = 0;\n    while (n >= 0) n = (n + 1) % 7;";
const watchdog: BadInput[] = [
  {
    name: 'the main actor loops without yielding: stopped, naming it',
    args: ['run', 'w.ts', '--watchdog', '1s'],
    files: { 'w.ts': workloadWith(loop) },
    exit: 1,
    stderr:
      "cmascope: w.ts: the actor 'w'[100] ran for 1 s of wall time without yielding (an endless loop?); stopped",
  },
  {
    name: 'a spawned actor loops without yielding: stopped, naming it',
    args: ['run', 'w.ts', '--watchdog', '1s'],
    files: {
      'w.ts': workloadWith(`    sys.spawn('player', {}, function* (p) {
      yield p.sleep('1s');
      for (;;) p.log('spin');
    });
    yield sys.sleep('1min');`),
    },
    exit: 1,
    stderr:
      "cmascope: w.ts: the actor 'player'[101] ran for 1 s of wall time without yielding (an endless loop?); stopped",
  },
  {
    name: "the workload's top-level code loops: stopped",
    args: ['check', 'w.ts', '--watchdog', '1s'],
    files: { 'w.ts': workloadWith('', 'for (;;) {}') },
    exit: 1,
    stderr:
      "cmascope: w.ts: the workload's top-level code ran for 1 s of wall time without yielding (an endless loop?); stopped",
  },
  {
    name: 'seconds of honest kernel work in one system call are not stopped',
    args: ['run', 'w.ts', '--watchdog', '1s', '-f', 'json'],
    files: {
      'w.ts': `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'heavy',
  machine: { memory: '32GiB' },
  *main(sys) {
    const b = yield* sys.mmapAnon('27GiB');
    if (typeof b === 'string') return sys.record('mmap', b);
    sys.record('touched', yield* sys.touch(b));
  },
});
`,
    },
    exit: 0,
    stderr: '',
    check: (r) => expect(JSON.parse(r.stdout).at(-1).results).toEqual({ touched: 0 }),
  },
];

const OOM = 'cmascope: w.ts: the workload ran out of memory (worker heap limit 2048 MiB); stopped';
const memory: BadInput[] = [
  {
    name: 'an array that grows without end: out of memory, exit 1',
    args: ['run', 'w.ts', '--watchdog', '60s'],
    files: {
      'w.ts': workloadWith('    const a = [];\n    for (;;) a.push(new Array(1e6).fill(1.5));'),
    },
    exit: 1,
    stderr: OOM,
    maxRssMb: 2048 + 300,
  },
  {
    name: 'buffers (outside the heap) that grow without end: out of memory, exit 1',
    args: ['run', 'w.ts', '--watchdog', '60s'],
    files: {
      'w.ts': workloadWith('    const a = [];\n    for (;;) a.push(new Uint8Array(1e8).fill(1));'),
    },
    exit: 1,
    stderr: OOM,
    maxRssMb: 2048 + 300,
  },
  // V8 builtins that never check for termination: a fatal out-of-memory aborts the process the
  // worker runs in, or the worker cannot be stopped; the workload's own process ends (loader.ts)
  ...[
    'new Array(2 ** 32 - 1).fill(0)',
    'Array.from({ length: 2 ** 32 - 1 })',
    'const a = []; a.length = 2 ** 32 - 1; a.fill(0)',
  ].map(
    (expr): BadInput => ({
      name: `${expr} (a native builtin): out of memory, exit 1, under the heap limit + 300 MiB`,
      // 20-30 s on a quiet machine; a loaded one (several suites on two cores) takes minutes
      args: ['run', 'w.ts', '--watchdog', '300s'],
      files: { 'w.ts': workloadWith(`    yield sys.sleep('1s');\n    ${expr};`) },
      exit: 1,
      stderr: OOM,
      maxRssMb: 2048 + 300,
      timeoutMs: 240_000,
    }),
  ),
];

catalogue('bad input: the workload worker', [
  ...inputs,
  ...watchdog,
  ...memory,
  ...deadlocks,
  ...snapshots,
  ...determinism,
  ...callbacks,
]);
