// A workload gets randomness and time only from the simulator (issue #4, DESIGN.md "Workload
// scripts"): the same file, seed and policies must give byte-identical output. esbuild rewrites
// the workload's own uses of the wall clock and of unseeded randomness (not cmascope's) to these
// guards, which throw where the workload called them, naming the deterministic replacement.

const GLOBAL = '__cmascopeDeterminism';

function refuse(what: string, instead: string): never {
  throw new TypeError(
    `${what} is not available in a workload: runs must be reproducible; use ${instead}`,
  );
}

/** `Date` for workloads: dates from explicit values work; the current time does not. */
class WorkloadDate extends Date {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) refuse('new Date()', 'sys.now() (simulated time, ns)');
    super(...(args as ConstructorParameters<DateConstructor>));
  }

  static override now(): number {
    return refuse('Date.now()', 'sys.now() (simulated time, ns)');
  }
}

const guards = {
  random: (): number => refuse('Math.random()', "sys.random('stream') (seeded by --seed)"),
  performanceNow: (): number => refuse('performance.now()', 'sys.now() (simulated time, ns)'),
  hrtime: (): never => refuse('process.hrtime()', 'sys.now() (simulated time, ns)'),
  Date: WorkloadDate,
};

/** esbuild `define`: what the workload's code calls, and the guard it calls instead. */
export const DETERMINISM_DEFINES: Record<string, string> = {
  'Math.random': `globalThis.${GLOBAL}.random`,
  'performance.now': `globalThis.${GLOBAL}.performanceNow`,
  'process.hrtime': `globalThis.${GLOBAL}.hrtime`,
  'process.hrtime.bigint': `globalThis.${GLOBAL}.hrtime`,
  Date: `globalThis.${GLOBAL}.Date`,
};

/** Make the guards reachable from the bundle (once per worker, before it is imported). */
export function installDeterminismGuards(): void {
  Object.defineProperty(globalThis, GLOBAL, { value: guards, configurable: true });
}
