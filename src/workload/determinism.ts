// A workload gets randomness and time only from the simulator (issue #4): the same file, seed and policies must give byte-identical output. esbuild rewrites
// the workload's own uses of the wall clock, unseeded randomness, the host process, and callbacks
// (which would run after the simulation, if ever) — not cmascope's — to these guards, which throw
// where the workload called them, naming the deterministic replacement (issue #13).

const GLOBAL = '__cmascopeDeterminism';

const REPRODUCIBLE = 'runs must be reproducible';
const SIM_TIME = 'sys.now() (simulated time, ns)';
const SEEDED = "sys.random('stream') (seeded by --seed)";
const CALLBACKS = 'a workload runs in simulated time, where callbacks and promises never run';
const YIELD = "generator functions and yield sys.sleep('1ms')";
const UTC = 'toISOString() or the getUTC*() methods (local time depends on the machine)';

function refuse(what: string, why: string, instead: string): never {
  throw new TypeError(`${what} is not available in a workload: ${why}; use ${instead}`);
}

/** An object every property of which is refused: `process.env`, `crypto.randomUUID`. */
const refuseAll = (name: string, why: string, instead: string): object =>
  new Proxy(
    {},
    {
      get: (_, key) => refuse(`${name}.${String(key)}`, why, instead),
      has: (_, key) => refuse(`${name}.${String(key)}`, why, instead),
    },
  );

/** Date methods whose result depends on the machine's time zone or language. */
const LOCAL_TIME = [
  'toString',
  'toDateString',
  'toTimeString',
  'toLocaleString',
  'toLocaleDateString',
  'toLocaleTimeString',
  'getTimezoneOffset',
  'getFullYear',
  'getMonth',
  'getDate',
  'getDay',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
  'setFullYear',
  'setMonth',
  'setDate',
  'setHours',
  'setMinutes',
  'setSeconds',
  'setMilliseconds',
] as const;

/** `Date` for workloads: dates from explicit values work, in UTC; the current time does not. */
class WorkloadDate extends Date {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) refuse('new Date()', REPRODUCIBLE, SIM_TIME);
    if (args.length > 1)
      refuse('new Date(year, month, ...)', REPRODUCIBLE, 'new Date(Date.UTC(year, month, ...))');
    super(...(args as ConstructorParameters<DateConstructor>));
  }

  static override now(): number {
    return refuse('Date.now()', REPRODUCIBLE, SIM_TIME);
  }
}
for (const name of LOCAL_TIME) {
  Object.defineProperty(WorkloadDate.prototype, name, {
    value: () => refuse(`date.${name}()`, REPRODUCIBLE, UTC),
  });
}

const guards = {
  random: (): number => refuse('Math.random()', REPRODUCIBLE, SEEDED),
  performanceNow: (): number => refuse('performance.now()', REPRODUCIBLE, SIM_TIME),
  hrtime: (): never => refuse('process.hrtime()', REPRODUCIBLE, SIM_TIME),
  performance: refuseAll('performance', REPRODUCIBLE, SIM_TIME),
  process: refuseAll('process', REPRODUCIBLE, 'params (--set key=value) and sys.now()'),
  crypto: refuseAll('crypto', REPRODUCIBLE, SEEDED),
  // `Date()` called without new: the current time as a string
  Date: new Proxy(WorkloadDate, { apply: () => refuse('Date()', REPRODUCIBLE, SIM_TIME) }),
  setTimeout: (): never => refuse('setTimeout()', CALLBACKS, YIELD),
  setInterval: (): never => refuse('setInterval()', CALLBACKS, YIELD),
  setImmediate: (): never => refuse('setImmediate()', CALLBACKS, YIELD),
  queueMicrotask: (): never => refuse('queueMicrotask()', CALLBACKS, YIELD),
  Promise: new Proxy(function WorkloadPromise() {}, {
    construct: () => refuse('new Promise()', CALLBACKS, YIELD),
    apply: () => refuse('Promise()', CALLBACKS, YIELD),
    get: (_, key) => refuse(`Promise.${String(key)}`, CALLBACKS, YIELD),
  }),
};

/** esbuild `define`: what the workload's code names, and the guard it gets instead. */
export const DETERMINISM_DEFINES: Record<string, string> = {
  'Math.random': `globalThis.${GLOBAL}.random`,
  'performance.now': `globalThis.${GLOBAL}.performanceNow`,
  'process.hrtime': `globalThis.${GLOBAL}.hrtime`,
  'process.hrtime.bigint': `globalThis.${GLOBAL}.hrtime`,
  ...Object.fromEntries(
    [
      'performance',
      'process',
      'crypto',
      'Date',
      'setTimeout',
      'setInterval',
      'setImmediate',
      'queueMicrotask',
      'Promise',
    ].map((name) => [name, `globalThis.${GLOBAL}.${name}`]),
  ),
};

/** Make the guards reachable from the bundle (once per worker, before it is imported). */
export function installDeterminismGuards(): void {
  Object.defineProperty(globalThis, GLOBAL, { value: guards, configurable: true });
}
