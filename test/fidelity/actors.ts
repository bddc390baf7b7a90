// Workload-level fixtures for the fidelity cases of the pinning layer (kernel-model.md §7.C–G): a
// Simulation on platform P, one-line actors, and readers of the state a case asserts on.
import type { KernelSpec } from '../../src/kernel/boot.js';
import type { Errno, KernelVersion, Policies } from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Task } from '../../src/kernel/task.js';
import { PAGE_SIZE } from '../../src/sim/units.js';
import { type Buf, System } from '../../src/workload/api.js';
import { type Credentials, Simulation } from '../../src/workload/runtime.js';
import { B, CMA_PAGES, machineP, PLATFORM_P } from '../helpers.js';

export const VERSIONS = ['6.18', '6.4'] as const satisfies readonly KernelVersion[];

/**
 * Each version under the lowest-PFN placement of §7.0 and the kernel's own lists, for the cases
 * whose numbers do not depend on which free pages a process gets.
 */
export const VERSION_PLACEMENTS = VERSIONS.flatMap((v) =>
  (['lowest-pfn', 'kernel'] as const).map((p) => [v, p] as const),
);

/** The 256 MiB 'svp' area of platform P (§7.0). */
export const inCma = (pfn: number): boolean => pfn >= B && pfn < B + CMA_PAGES;

/** The value of a call that must succeed (setup steps); an errno throws. */
export function ok<T>(r: T | Errno, what = 'call'): T {
  if (typeof r === 'string') throw new Error(`${what} failed: ${r}`);
  return r;
}

/** A Simulation on platform P (§7.0) unless `machine` is given. */
export function simP(
  opts: {
    version?: KernelVersion;
    policies?: Partial<Policies>;
    fn?: number;
    machine?: KernelSpec['machine'];
  } = {},
): Simulation {
  return new Simulation({
    version: opts.version ?? '6.18',
    policies: { ...PLATFORM_P, ...opts.policies },
    machine: opts.machine ?? machineP(opts.fn),
  });
}

/** Start a process running `body` (with the whole System API); returns its task. */
export function actor(
  sim: Simulation,
  comm: string,
  cred: Credentials,
  body: (p: System) => Generator<unknown, void, unknown>,
): Task {
  return sim.spawn(comm, cred, (t) => body(new System(sim, t)));
}

/**
 * Platform P of `version` (and `policies`) with one process, A (uid 1000): `run(body)` runs it to the end; `out`
 * holds what the body records for the test's assertions.
 */
export function processA(version: KernelVersion, policies: Partial<Policies> = {}) {
  const s = simP({ version, policies });
  const out: Record<string, unknown> = {};
  const run = (body: (p: System) => Generator<unknown, void, unknown>): void => {
    actor(s, 'A', { uid: 1000 }, body);
    s.run();
  };
  return { k: s.k, out, run };
}

/** The pfn mapped at every page of `buf` in `task` (-1 where none is). */
export function pfnsOf(task: Task, buf: Buf): number[] {
  const start = Math.floor(buf.addr / PAGE_SIZE);
  const n = Math.ceil((buf.addr + buf.len) / PAGE_SIZE) - start;
  return Array.from({ length: n }, (_, i) => task.mm.pageAt(start + i));
}

export type Counters = Kernel['vm'];

/** A copy of the /proc/vmstat events the pinning layer moves. */
export const counters = (k: Kernel): Counters => ({ ...k.vm });

/** The change of every counter since `before`. */
export function delta(k: Kernel, before: Counters): Record<keyof Counters, number> {
  const out = {} as Record<keyof Counters, number>;
  for (const key of Object.keys(before) as (keyof Counters)[]) out[key] = k.vm[key] - before[key];
  return out;
}

/** FOLL_PIN references held on `pfns` (each is GUP_PIN_COUNTING_BIAS in _refcount). */
export const pinsOn = (k: Kernel, pfns: readonly number[]): number[] =>
  pfns.map((pfn) => k.alloc.pages.pincount(pfn));

/** nr_free_cma */
export const freeCma = (k: Kernel): number => k.alloc.freeCounts()[1];

/** Map and write-fault `size` of anon memory (lowest-PFN placement: CMA offsets from 0). */
export function* touched(p: System, size: string) {
  const buf = ok(yield* p.mmapAnon(size));
  ok(yield* p.touch(buf));
  return buf;
}
