// Bad input through the workload API and the machine description (issue #13): a machine that
// cannot boot and a `main` that is not a generator are load errors (exit 2) at the value; a bad
// argument to a system call is a TypeError at the call (exit 1); what the kernel refuses is an
// errno result; nothing crashes the model.
import { type BadInput, catalogue } from './catalogue.js';

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
]);
