// Shared fixtures: platform P of kernel-model.md §7.0 and a driver for kernel generators.
import { bootKernel, type KernelSpec } from '../src/kernel/boot.js';
import type { KernelVersion } from '../src/kernel/config.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { faultPage } from '../src/kernel/mm/memory.js';
import { type MemObject, ObjKind } from '../src/kernel/mm/rmap.js';
import type { TraceName } from '../src/kernel/observe/trace.js';
import type { Sleep } from '../src/sim/engine.js';

export const B = 0xe0000; // §7.0 base_pfn of 'svp'
export const CMA_PAGES = 65536;

/** Platform P's machine (§7.0) for a Simulation; `fn` free non-CMA pages, min watermark 0. */
export function machineP(fn = 40960): KernelSpec['machine'] {
  const nonCma = Math.ceil(fn / 1024) * 1024;
  return {
    memory: (nonCma + CMA_PAGES) * 4096,
    dramBase: (B - nonCma) * 4096,
    reserved: (nonCma - fn) * 4096,
    minFree: 0,
    cma: [{ name: 'svp', size: '256MiB', base: B * 4096 }],
  };
}

/** A mutable clock the tests advance as kernel generators sleep. */
export interface TestClock {
  now: number;
}

/**
 * Platform P's policies (§7.0): Fn and Fc are the free counts of the cases' arithmetic, exact only
 * while no free page waits on a per-CPU list (those are outside NR_FREE_PAGES and
 * NR_FREE_CMA_PAGES, §1.4, and a cma_release() frees through them): P has none, pcp=off, under
 * either placement. A case overrides it by naming pcp.
 */
export const PLATFORM_P: KernelSpec['policies'] = { pcp: 'off' };

/**
 * Platform P (§7.0): 'svp' at B with 65536 pages, and `fn` free non-CMA pages just below it,
 * min watermark 0 so that Fn is exactly the free non-CMA count.
 */
export function platformP(
  opts: { version?: KernelVersion; fn?: number; policies?: KernelSpec['policies'] } = {},
): { k: Kernel; clock: TestClock } {
  const clock: TestClock = { now: 0 };
  const k = bootKernel(
    {
      version: opts.version ?? '6.18',
      policies: { ...PLATFORM_P, ...opts.policies },
      machine: machineP(opts.fn),
    },
    clock,
  );
  return { k, clock };
}

/** Run a kernel generator to completion, advancing the clock by every sleep. */
export function drive<R>(gen: Generator<Sleep, R>, clock: TestClock): R {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    clock.now += r.value.ns;
  }
}

/** Process A write-faults `pages` pages of a fresh anon object (C1). */
export function touchAnon(k: Kernel, pages: number, label = 'anon:A'): MemObject {
  const obj = k.rmap.create(ObjKind.ANON, pages, label);
  for (let i = 0; i < pages; i++) {
    if (faultPage(k, obj, i) < 0) throw new Error(`fault ${i} failed`);
  }
  return obj;
}

export const freeCounts = (k: Kernel) => {
  const [free, cma] = k.alloc.freeCounts();
  return { Fc: cma, Fn: free - cma };
};

/**
 * The policies of a case whose numbers are exact lowest-PFN positions (§1.4): pinned, so that
 * they hold whatever the default placement is; on platform P's terms (no per-CPU lists, whose
 * refills would take a batch of pages at a time).
 */
export const LOWEST_PFN: KernelSpec['policies'] = { ...PLATFORM_P, placement: 'lowest-pfn' };

export const traceLines = (k: Kernel, name?: TraceName) =>
  k.trace
    .records()
    .filter((r) => name === undefined || r.name === name)
    .map((r) => `${r.name}: ${k.trace.body(r)}`);

/** The kernel log's messages (dmesg without times). */
export const dmesg = (k: Kernel) => k.printkLog.texts();

/**
 * From now on, trace records (`name: body`) and kernel log lines (`printk: text`) in the order the
 * kernel emitted them.
 */
export function traceAndLog(k: Kernel): string[] {
  const out: string[] = [];
  k.trace.sink = (r) => out.push(`${r.name}: ${k.trace.body(r)}`);
  k.printkLog.sink = (r) => out.push(`printk: ${r.text}`);
  return out;
}
