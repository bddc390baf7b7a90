// Bad input through the workload API and the machine description (issue #13): a machine that
// cannot boot and a `main` that is not a generator are load errors (exit 2) at the value; a bad
// argument to a system call is a TypeError at the call (exit 1); what the kernel refuses is an
// errno result; nothing crashes the model.
import { expect } from 'vitest';
import { visible } from '../../../src/metrics/fmt.js';
import { type BadInput, catalogue, workloadWith } from './catalogue.js';

/** A workload with this machine (the lines inside `machine: { ... }`) and an empty main. */
const machineWith = (machine: string, main = 'yield sys.sleep(1);'): string =>
  `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'm',
  machine: { ${machine} },
  *main(sys) {
    ${main}
  },
});
`;

/** `check` and `run` of one workload file. */
const checkAndRun = (name: string, text: string, stderr: string | RegExp): BadInput[] =>
  ['check', 'run'].map((cmd) => ({
    name: `${name} (${cmd})`,
    args: [cmd, 'w.ts'],
    files: { 'w.ts': text },
    exit: 2,
    stderr,
  }));

catalogue('the machine and main: load errors at the value (exit 2)', [
  ...checkAndRun(
    'reserved larger than memory',
    machineWith("memory: '512MiB', reserved: '1GiB'"),
    "cmascope: w.ts:4:42: ConfigError: memory '512MiB' leaves nothing to the buddy allocator after reserved '1GiB'",
  ),
  ...checkAndRun(
    'reserved as large as memory less ZONE_MOVABLE',
    machineWith("memory: '512MiB', movable: '256MiB', reserved: '256MiB'"),
    /^cmascope: w\.ts:4:\d+: ConfigError: memory '512MiB' leaves nothing to the buddy allocator after reserved '256MiB'$/,
  ),
  ...checkAndRun(
    'an unknown heap type',
    machineWith(
      "memory: '256MiB', cma: [{ name: 'svp', size: '32MiB' }], heaps: [{ name: 'h', type: 'secure', area: 'svp' }]",
    ),
    "cmascope: w.ts:4:98: ConfigError: heap 'h': unknown type 'secure' (cma, secure-region or tee-protected)",
  ),
  ...checkAndRun(
    'cpus 0',
    machineWith("memory: '256MiB', cpus: 0"),
    'cmascope: w.ts:2:16: ConfigError: cpus must be an integer from 1 to 1024, not 0',
  ),
  ...checkAndRun(
    "cpus '4', a string",
    machineWith("memory: '256MiB', cpus: '4'"),
    "cmascope: w.ts:4:38: ConfigError: cpus must be an integer from 1 to 1024, not '4'",
  ),
  ...checkAndRun(
    'cpus 2.5',
    machineWith("memory: '256MiB', cpus: 2.5"),
    'cmascope: w.ts:2:16: ConfigError: cpus must be an integer from 1 to 1024, not 2.5',
  ),
  ...checkAndRun(
    "a CMA area named ''",
    machineWith("memory: '256MiB', cma: [{ name: '', size: '32MiB' }]"),
    "cmascope: w.ts:4:46: ConfigError: a CMA area needs a name: got ''",
  ),
  ...checkAndRun(
    'main is not a generator function',
    `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'm',
  machine: { memory: '256MiB' },
  main(sys) {
    sys.record('x', 1);
  },
});
`,
    'cmascope: w.ts:2:16: TypeError: workload: `main` must be a generator function `*main(sys, params) {...}`',
  ),
  ...checkAndRun(
    'main is an async generator function',
    `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'm',
  machine: { memory: '256MiB' },
  async *main(sys) {},
});
`,
    'cmascope: w.ts:2:16: TypeError: workload: `main` must be a generator function `*main(sys, params) {...}`',
  ),
  ...checkAndRun(
    'a misspelt machine key',
    machineWith("memory: '512MiB', reseved: '64MiB'"),
    "cmascope: w.ts:2:16: TypeError: machine: unknown key 'reseved' (memory, dramBase, movable, reserved, minFree, cpus, cma, heaps, tee, layout)",
  ),
  ...checkAndRun(
    'a misspelt CMA area key',
    machineWith("memory: '1GiB', cma: [{ name: 'svp', size: '64MiB', bse: '700MiB' }]"),
    "cmascope: w.ts:4:44: TypeError: CMA area 'svp': unknown key 'bse' (name, size, base, orderPerBit, gcma)",
  ),
  ...checkAndRun(
    "gcma: 'yes'",
    machineWith("memory: '1GiB', cma: [{ name: 'svp', size: '64MiB', gcma: 'yes' }]"),
    "cmascope: w.ts:4:44: TypeError: CMA area 'svp': gcma must be true or false",
  ),
  ...checkAndRun(
    "heaps: 'svp'",
    machineWith("memory: '1GiB', heaps: 'svp'"),
    'cmascope: w.ts:2:16: TypeError: machine.heaps must be an array of heaps',
  ),
  ...checkAndRun(
    "tee: { registerOps: 'no' }",
    machineWith("memory: '1GiB', tee: { registerOps: 'no' }"),
    'cmascope: w.ts:2:16: TypeError: machine.tee.registerOps must be true or false',
  ),
  ...checkAndRun(
    "a TEE protected heap's pool of '1000B'",
    machineWith(
      "memory: '1GiB', cma: [{ name: 'svp', size: '64MiB' }], heaps: [{ name: 'h', type: 'tee-protected', area: 'svp', poolSize: '1000B' }]",
    ),
    "cmascope: w.ts:4:136: ConfigError: heap 'h': the pool size must be a non-zero multiple of 4KiB, not '1000B'",
  ),
  ...checkAndRun(
    "a CMA size of '32 MiBs' beside memory '256MiB': the location is the bad value's",
    machineWith("memory: '256MiB', cma: [{ name: 'svp', size: '32 MiBs' }]"),
    /^cmascope: w\.ts:4:59: UnitError: invalid size of CMA area 'svp' '32 MiBs'/,
  ),
]);

/** `body` then `line` inside main (line 8 of workloadWith's file is the first line of the body). */
const LINE = 8;

/**
 * A call with a wrong argument: a TypeError (or UnitError) at the call's file:line:column (the
 * column of the method's name on `line`), exit 1.
 */
function atCall(name: string, setup: string, line: string, message: string): BadInput {
  const lines = setup === '' ? [line] : [...setup.split('\n'), line];
  const at = lines.length - 1;
  const column = /\.(\w+)\(/.exec(line)!.index + 2 + 4; // after '.'; the body is indented 4
  return {
    name,
    args: ['run', 'w.ts'],
    files: { 'w.ts': workloadWith(lines.map((l) => `    ${l}`).join('\n')) },
    exit: 1,
    stderr: `cmascope: w.ts:${LINE + at}:${column}: ${message}`,
  };
}

const BUF = "const b = yield* sys.mmapAnon('1MiB');";
const TEE = `const ctx = yield* sys.open('/dev/tee0');\n${BUF}`;

catalogue('a wrong argument: a TypeError at the call (exit 1)', [
  atCall(
    "cmaDebugfsAlloc('svp', '5'): pages as a string",
    '',
    "yield* sys.cmaDebugfsAlloc('svp', '5');",
    "TypeError: cmaDebugfsAlloc expects a number of pages: got '5'",
  ),
  atCall(
    'cmaDebugfsAlloc(5, 5): an area that is not a name',
    '',
    'yield* sys.cmaDebugfsAlloc(5, 5);',
    'TypeError: cmaDebugfsAlloc expects a CMA area name: got 5',
  ),
  atCall(
    "cmaDebugfsFree('svp'): no page count",
    '',
    "yield* sys.cmaDebugfsFree('svp');",
    'TypeError: cmaDebugfsFree expects a number of pages: got undefined',
  ),
  atCall(
    "dmaHeapAlloc(42, '1MiB'): a heap that is not a name",
    '',
    "yield* sys.dmaHeapAlloc(42, '1MiB');",
    'TypeError: dmaHeapAlloc expects a heap name: got 42',
  ),
  atCall(
    'mmapAnon with a misspelt option',
    '',
    "yield* sys.mmapAnon('1MiB', { lockd: true });",
    "TypeError: mmapAnon: unknown option 'lockd' (options: locked)",
  ),
  atCall(
    "mmapAnon with locked: 'yes'",
    '',
    "yield* sys.mmapAnon('1MiB', { locked: 'yes' });",
    "TypeError: mmapAnon: option locked must be a boolean: got 'yes'",
  ),
  atCall(
    'mmapAnon with null options',
    '',
    "yield* sys.mmapAnon('1MiB', null);",
    'TypeError: mmapAnon expects an options object { locked }: got null',
  ),
  atCall(
    'touch with write: 1',
    BUF,
    'yield* sys.touch(b, { write: 1 });',
    'TypeError: touch: option write must be a boolean: got 1',
  ),
  atCall(
    "mlockall('current')",
    '',
    "yield* sys.mlockall('current');",
    "TypeError: mlockall expects an options object { current, future }: got 'current'",
  ),
  atCall('open(42)', '', 'yield* sys.open(42);', 'TypeError: open expects a path: got 42'),
  atCall(
    'open with size: true',
    '',
    "yield* sys.open('/data/f', { size: true });",
    "TypeError: open: option size must be a size such as '4MiB': got true",
  ),
  atCall(
    "memfd(7, '1MiB')",
    '',
    "yield* sys.memfd(7, '1MiB');",
    'TypeError: memfd expects a name: got 7',
  ),
  atCall(
    'read at offset -1',
    "const fd = yield* sys.open('/data/f', { size: '1MiB' });",
    "yield* sys.read(fd, '4KiB', { offset: -1 });",
    'UnitError: invalid offset -1: expected a non-negative integer number of bytes',
  ),
  atCall(
    'write with an options array',
    "const fd = yield* sys.open('/data/f', { size: '1MiB' });",
    "yield* sys.write(fd, '4KiB', [0]);",
    'TypeError: write expects an options object { offset }: got an array',
  ),
  atCall(
    'teeShmRegister with flags -1',
    TEE,
    'yield* sys.teeShmRegister(ctx, b, { flags: -1 });',
    'TypeError: teeShmRegister: flags must be a u32: got -1',
  ),
  atCall(
    'teeInvoke with shms not an array',
    TEE,
    "yield* sys.teeInvoke(ctx, 5, '1ms');",
    'TypeError: teeInvoke expects an array of shms: got 5',
  ),
  atCall(
    'teeInvoke with an object that is not a shm',
    TEE,
    "yield* sys.teeInvoke(ctx, [{}], '1ms');",
    'TypeError: teeInvoke expects shms from teeShmAlloc/teeShmRegister, or their ids: got [object Object]',
  ),
  atCall(
    'ioUringRegisterBuffers with a buffer, not an array',
    `const ring = yield* sys.ioUringSetup();\n${BUF}`,
    'yield* sys.ioUringRegisterBuffers(ring, b);',
    'TypeError: ioUringRegisterBuffers expects an array of buffers: got [object Object]',
  ),
  atCall(
    'rdmaDeregMr with a NaN handle',
    "const ctx = yield* sys.open('/dev/infiniband/uverbs0');",
    'yield* sys.rdmaDeregMr(ctx, NaN);',
    'TypeError: rdmaDeregMr expects an MR handle from rdmaRegMr: got NaN',
  ),
  atCall(
    'vfioUnmapDma with id -1',
    "const fd = yield* sys.open('/dev/vfio/vfio');",
    'yield* sys.vfioUnmapDma(fd, -1);',
    'TypeError: vfioUnmapDma expects a mapping id from vfioMapDma: got -1',
  ),
  atCall(
    'directIo without a duration',
    BUF,
    'yield* sys.directIo(b, {});',
    'TypeError: directIo expects options { duration }: got [object Object]',
  ),
  atCall(
    "directIo with read: 'no'",
    BUF,
    "yield* sys.directIo(b, { duration: '1ms', read: 'no' });",
    "TypeError: directIo: option read must be a boolean: got 'no'",
  ),
  atCall(
    'gupPin with fast: 1',
    BUF,
    'yield* sys.gupPin(b, { fast: 1 });',
    'TypeError: gupPin: option fast must be a boolean: got 1',
  ),
  atCall(
    'fork with a name that is not a string',
    '',
    'yield* sys.fork(1, function* () {});',
    'TypeError: fork expects a process name: got 1',
  ),
  atCall(
    'fork with a body that is not a function',
    '',
    "yield* sys.fork('child', 'body');",
    "TypeError: fork expects a generator function as its body: got 'body'",
  ),
  atCall(
    'spawn with a name that is not a string',
    '',
    'sys.spawn(5, {}, function* () {});',
    'TypeError: spawn expects a process name: got 5',
  ),
  atCall(
    'spawn with uid -1',
    '',
    "sys.spawn('w', { uid: -1 }, function* () {});",
    'TypeError: spawn: uid must be an integer from 0 to 2^32 - 1: got -1',
  ),
  atCall(
    'spawn without credentials',
    '',
    "sys.spawn('w', undefined, function* () {});",
    'TypeError: spawn expects credentials { uid, capIpcLock, memlock }: got undefined',
  ),
  atCall(
    'spawn with a misspelt credential',
    '',
    "sys.spawn('w', { capIpcLok: true }, function* () {});",
    "TypeError: spawn: unknown option 'capIpcLok' (options: uid, capIpcLock, memlock)",
  ),
  atCall(
    'spawn on CPU 4 of 4',
    '',
    "sys.spawn('w', {}, function* () {}, { cpu: 4 });",
    'TypeError: spawn: cpu must be an integer from 0 to 3 (cpus: 4): got 4',
  ),
  atCall(
    'spawn on CPU 1.5',
    '',
    "sys.spawn('w', {}, function* () {}, { cpu: 1.5 });",
    'TypeError: spawn: cpu must be an integer from 0 to 3 (cpus: 4): got 1.5',
  ),
  atCall(
    "spawn on CPU '1'",
    '',
    "sys.spawn('w', {}, function* () {}, { cpu: '1' });",
    "TypeError: spawn: option cpu must be a number: got '1'",
  ),
  atCall(
    'spawn with a misspelt option',
    '',
    "sys.spawn('w', {}, function* () {}, { cpus: 1 });",
    "TypeError: spawn: unknown option 'cpus' (options: cpu)",
  ),
  atCall(
    "kill('100')",
    '',
    "sys.kill('100');",
    "TypeError: kill expects a pid from spawn or fork: got '100'",
  ),
  atCall('record(5, 1)', '', 'sys.record(5, 1);', 'TypeError: record expects a key: got 5'),
  atCall('random(7)', '', 'sys.random(7);', 'TypeError: random expects a stream name: got 7'),
  atCall(
    'sleep(NaN)',
    '',
    'yield sys.sleep(NaN);',
    'UnitError: invalid duration NaN: expected a non-negative integer number of nanoseconds',
  ),
]);

/** A run whose JSON snapshot's results and CMA area 'svp' `check` looks at; exit 0. */
function results(
  name: string,
  body: string,
  check: (final: {
    results: Record<string, unknown>;
    cma: Record<string, Record<string, number>>;
    failures: { op: string; errno: string }[];
  }) => void,
): BadInput {
  return {
    name,
    args: ['run', 'w.ts', '-f', 'json'],
    files: { 'w.ts': workloadWith(body) },
    exit: 0,
    stderr: '',
    check: (r) => check(JSON.parse(r.stdout).at(-1)),
  };
}

const sysfs = (svp: Record<string, number>) => [
  svp.alloc_pages_success,
  svp.alloc_pages_fail,
  svp.release_pages_success,
];

catalogue('a debugfs write the kernel refuses: its errno, counters untouched (exit 0)', [
  ...[
    ['-5', "echo -5 > alloc: kstrtoull's -EINVAL"],
    ['NaN', 'NaN: not a number the file parses'],
    ['1.5', '1.5: not an integer'],
    ['2 ** 64', '2^64: above u64'],
  ].map(([n, name]) =>
    results(
      `cmaDebugfsAlloc('svp', ${n}): ${name}`,
      `sys.record('r', yield* sys.cmaDebugfsAlloc('svp', ${n}));`,
      (s) => {
        expect(s.results).toEqual({ r: 'EINVAL' });
        expect(sysfs(s.cma.svp!)).toEqual([0, 0, 0]);
        expect(s.failures.map((f) => `${f.op} ${f.errno}`)).toEqual(['cma_debugfs_alloc EINVAL']);
      },
    ),
  ),
  results(
    "cmaDebugfsFree('svp', -1): -EINVAL, the allocation stays",
    `yield* sys.cmaDebugfsAlloc('svp', 16);
    sys.record('r', yield* sys.cmaDebugfsFree('svp', -1));`,
    (s) => {
      expect(s.results).toEqual({ r: 'EINVAL' });
      expect(sysfs(s.cma.svp!)).toEqual([16, 0, 0]);
    },
  ),
  results(
    "cmaDebugfsAlloc('svp', 2 ** 32 + 16): `int pages = val` keeps 16",
    `sys.record('r', yield* sys.cmaDebugfsAlloc('svp', 2 ** 32 + 16));`,
    (s) => {
      expect(s.results).toEqual({ r: 0 });
      expect(sysfs(s.cma.svp!)).toEqual([16, 0, 0]);
    },
  ),
  results(
    "cmaDebugfsFree('svp', 2 ** 32 - 1): int -1, which frees every debugfs allocation",
    `yield* sys.cmaDebugfsAlloc('svp', 16);
    yield* sys.cmaDebugfsAlloc('svp', 32);
    sys.record('r', yield* sys.cmaDebugfsFree('svp', 2 ** 32 - 1));`,
    (s) => {
      expect(s.results).toEqual({ r: 0 });
      expect(sysfs(s.cma.svp!)).toEqual([48, 0, 48]);
    },
  ),
]);

/** A run that records `expr` as 'r': the kernel's answer, never a crash of the model (exit 0). */
const answers = (name: string, setup: string, expr: string, want: unknown): BadInput =>
  results(name, `${setup}\n    sys.record('r', ${expr});`, (s) =>
    expect(s.results).toEqual({ r: want }),
  );

const FILE = "const fd = yield* sys.open('/data/f', { size: '2GiB' });";

catalogue('huge sizes: the errno the kernel gives, not a crash of the model (exit 0)', [
  answers("mmapAnon('100TiB'): more than RAM", '', "yield* sys.mmapAnon('100TiB')", 'ENOMEM'),
  answers(
    "mmapAnon('1GiB') on 256 MiB: the overcommit heuristic",
    '',
    "yield* sys.mmapAnon('1GiB')",
    'ENOMEM',
  ),
  answers(
    "mmapAnon('128MiB') on 256 MiB: within RAM, mapped",
    '',
    "typeof (yield* sys.mmapAnon('128MiB'))",
    'object',
  ),
  answers("memfd('x', '100TiB')", '', "yield* sys.memfd('x', '100TiB')", 'EFBIG'),
  answers(
    "open('/data/big', { size: '100TiB' })",
    '',
    "yield* sys.open('/data/big', { size: '100TiB' })",
    'EFBIG',
  ),
  answers(
    'a private writable 1 GiB mapping of a file on 256 MiB',
    FILE,
    "yield* sys.mmapFile(fd, '1GiB', { shared: false })",
    'ENOMEM',
  ),
  answers(
    'a shared 1 GiB mapping of a file on 256 MiB: not accounted, mapped',
    FILE,
    "typeof (yield* sys.mmapFile(fd, '1GiB'))",
    'object',
  ),
  answers(
    "read(fd, '100TiB', { offset: '100TiB' }): past the end, 0 bytes",
    FILE,
    "yield* sys.read(fd, '100TiB', { offset: '100TiB' })",
    0,
  ),
  answers(
    "dmaHeapAlloc('svp', '100TiB')",
    '',
    "yield* sys.dmaHeapAlloc('svp', '100TiB')",
    'ENOMEM',
  ),
  answers(
    "teeShmAlloc(ctx, '100TiB')",
    "const ctx = yield* sys.open('/dev/tee0');",
    "yield* sys.teeShmAlloc(ctx, '100TiB')",
    'ENOMEM',
  ),
  answers(
    "cmaDebugfsAlloc('svp', 2 ** 53): int 0, which cma_alloc refuses",
    '',
    "yield* sys.cmaDebugfsAlloc('svp', 2 ** 53)",
    'ENOMEM',
  ),
]);

/** `run -f <format>` of a workload whose body is `body`; `check` reads stdout. */
const output = (
  name: string,
  format: string,
  body: string,
  check: (stdout: string) => void,
  machine?: string,
): BadInput => {
  let text = workloadWith(body);
  if (machine) text = text.replace(/ {2}machine: .*\n/, `  machine: ${machine},\n`);
  return {
    name,
    args: ['run', 'w.ts', '-f', format],
    files: { 'w.ts': text },
    exit: 0,
    stderr: '',
    check: (r) => check(r.stdout),
  };
};

const PROTO_AREA = "{ memory: '256MiB', cma: [{ name: '__proto__', size: '32MiB' }] }";

catalogue("user-named keys such as '__proto__' are kept like any other (exit 0)", [
  output("record('__proto__', 3): json", 'json', "sys.record('__proto__', 3);", (out) =>
    expect(JSON.parse(out).at(-1).results).toEqual(JSON.parse('{"__proto__":3}')),
  ),
  output("record('__proto__', 3): text", 'text', "sys.record('__proto__', 3);", (out) =>
    expect(out).toContain('\nresults\n  __proto__ = 3\n'),
  ),
  output("record('__proto__', 3): csv", 'csv', "sys.record('__proto__', 3);", (out) =>
    expect(out.split('\r\n')[0]).toContain(',results.__proto__,'),
  ),
  output("record('__proto__', 3): prom", 'prom', "sys.record('__proto__', 3);", (out) =>
    expect(out).toContain('cmascope_result{key="__proto__"} 3'),
  ),
  output(
    "a CMA area named '__proto__': json",
    'json',
    "yield* sys.cmaDebugfsAlloc('__proto__', 16);",
    (out) => {
      const cma = JSON.parse(out).at(-1).cma;
      expect(Object.keys(cma)).toEqual(['__proto__']);
      expect(Object.getOwnPropertyDescriptor(cma, '__proto__')?.value.used).toBe(16);
    },
    PROTO_AREA,
  ),
  output(
    "a CMA area named '__proto__': text",
    'text',
    "yield* sys.cmaDebugfsAlloc('__proto__', 16);",
    (out) => expect(out).toContain('\nCMA area __proto__\n'),
    PROTO_AREA,
  ),
]);

/** stdout has no control character but line feeds (CR LF for csv), and shows `shown`. */
const noControls =
  (shown: string, crlf = false) =>
  (out: string): void => {
    const text = crlf ? out.replaceAll('\r\n', '\n') : out;
    expect(visible(text, true)).toBe(text);
    expect(text).toContain(shown);
  };

const ESC = String.raw`\u001b[2J\u0000`;
const SHOWN = String.raw`\x1b[2J\x00`;

catalogue('control characters from the workload are shown, never sent to the terminal (exit 0)', [
  output(
    'p.log with ESC and NUL: text',
    'text',
    `sys.log('log${ESC}');`,
    noControls(`: log${SHOWN}\n`),
  ),
  output(
    'a process named with ESC: text',
    'text',
    `const pid = sys.spawn('evil${ESC}', {}, function* (p) { p.log('hi'); });\n    yield sys.wait(pid);`,
    noControls(`evil${SHOWN}[101]: hi`),
  ),
  output(
    'a result key and value with ESC: text',
    'text',
    `sys.record('k${ESC}', 'v${ESC}');`,
    noControls(`  k${SHOWN} = v${SHOWN}\n`),
  ),
  output(
    'a log line with ESC: csv',
    'csv',
    `sys.log('log${ESC}');`,
    noControls(`log${SHOWN}`, true),
  ),
  output('a log line with ESC: prom comment', 'prom', `sys.log('log${ESC}');`, (out) =>
    expect(out).toContain(String.raw`log\\x1b[2J\\x00`),
  ),
]);

catalogue('control characters in an error message are shown, not obeyed (exit 1)', [
  atCall(
    'touch of a string holding ESC',
    '',
    String.raw`yield* sys.touch('\u001b[2J');`,
    String.raw`TypeError: touch expects a buffer from mmapAnon/mmapFile: got '\x1b[2J'`,
  ),
  atCall(
    'kill of a string holding NUL and ESC',
    '',
    String.raw`sys.kill('\u0000\u001b[31m');`,
    String.raw`TypeError: kill expects a pid from spawn or fork: got '\x00\x1b[31m'`,
  ),
]);
