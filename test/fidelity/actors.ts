// Helpers of the fidelity cases (kernel-model.md §7.C–G) beside the fixture of fixture.ts: the
// versions and placements a case runs under, setup steps, and readers of the state it asserts on.
import type { Errno, KernelVersion } from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Task } from '../../src/kernel/task.js';
import { PAGE_SIZE } from '../../src/sim/units.js';
import type { Buf, System } from '../../src/workload/api.js';
import { B, CMA_PAGES } from '../helpers.js';

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

/** The pfn mapped at every page of `buf` in `task` (-1 where none is). */
export function pfnsOf(task: Task, buf: Buf): number[] {
  const start = Math.floor(buf.addr / PAGE_SIZE);
  const n = Math.ceil((buf.addr + buf.len) / PAGE_SIZE) - start;
  return Array.from({ length: n }, (_, i) => task.mm.pageAt(start + i));
}

export type Counters = Kernel['vm'];

/** A copy of the /proc/vmstat events the pinning layer moves. */
export const counters = (k: Kernel): Counters => ({ ...k.vm });

const isCounter = (key: string, c: Counters): key is keyof Counters => key in c;

/** The change of every counter since `before`. */
export function delta(k: Kernel, before: Counters): Counters {
  const d = { ...before };
  for (const key of Object.keys(d)) if (isCounter(key, d)) d[key] = k.vm[key] - before[key];
  return d;
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
