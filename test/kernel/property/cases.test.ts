// Deterministic cases for kernel-model.md rules that test/fidelity does not cover (§2.3, §2.4,
// §3.4, §6 item 3, §9), on the small machine of small.ts.
import { describe, expect, it } from 'vitest';
import { CMA_RETRY_SLEEP_NS, type KernelVersion } from '../../../src/kernel/config.js';
import { type CmaAllocOutcome, cmaAlloc } from '../../../src/kernel/mm/cma.js';
import { GFP_KERNEL } from '../../../src/kernel/mm/gfp.js';
import { faultPage, releasePage } from '../../../src/kernel/mm/memory.js';
import { PageKind, PG_DIRTY, PG_MLOCKED } from '../../../src/kernel/mm/page.js';
import { ObjKind } from '../../../src/kernel/mm/rmap.js';
import type { Sleep } from '../../../src/sim/engine.js';
import { dmesg, drive, traceLines } from '../../helpers.js';
import { checkInvariants, type KernelBlock } from '../invariants.js';
import { A_BASE, ctxOf, smallMachine } from './small.js';

describe.each(['6.18', '6.4'] as const)('(a) %s: count larger than the area', (version) => {
  it('no candidate window: 6.18 -EBUSY with pr_err, 6.4 -ENOMEM silently (goto out)', () => {
    const { k, clock, a } = smallMachine(version);
    const r = drive(cmaAlloc(k, a, 1025, 0), clock);
    expect(r).toMatchObject({ pfn: -1, windows: 0, migrated: 0 });
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(a.allocPagesFail).toBe(1025);
    if (version === '6.18') {
      expect(r.errno).toBe(-16);
      expect(dmesg(k)[0]).toBe('cma: __cma_alloc: a: alloc failed, req-size: 1025 pages, ret: -16');
      // 6.18 __cma_alloc: trace_cma_alloc_finish(name, page ? page_to_pfn(page) : 0, ...)
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([
        'cma_alloc_finish: name=a pfn=0x0 page=0000000000000000 count=1025 align=0 errorno=-16',
      ]);
    } else {
      expect(r.errno).toBe(-12);
      expect(dmesg(k)).toEqual([]);
      // 6.4 cma_alloc: `if (bitmap_count > bitmap_maxno) goto out;` and `out:` follows both
      // trace_cma_alloc_finish and the pr_err, so neither is emitted
      expect(traceLines(k, 'cma_alloc_start')).toEqual([
        'cma_alloc_start: name=a count=1025 align=0',
      ]);
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([]);
    }
    checkInvariants(k, ctxOf());
  });

  it('bitmap full (count fits the area): 6.18 early exit -EBUSY, 6.4 loop finds nothing -ENOMEM; both warn', () => {
    const { k, clock, a } = smallMachine(version);
    const whole = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(whole.pfn).toBe(A_BASE);
    const r = drive(cmaAlloc(k, a, 1, 0), clock);
    const ret = version === '6.18' ? -16 : -12;
    expect(r).toMatchObject({ pfn: -1, windows: 0, errno: ret });
    const fn = version === '6.18' ? '__cma_alloc' : 'cma_alloc';
    expect(dmesg(k)[0]).toBe(`cma: ${fn}: a: alloc failed, req-size: 1 pages, ret: ${ret}`);
    // 6.4 reports the last window tried (none: -1), 6.18 page ? pfn : 0
    const pfn = version === '6.18' ? '0x0' : '0xffffffffffffffff';
    expect(traceLines(k, 'cma_alloc_finish')[1]).toBe(
      `cma_alloc_finish: name=a pfn=${pfn} page=0000000000000000 count=1 align=0 errorno=${ret}`,
    );
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });
});

describe.each(['6.18', '6.4'] as const)('(b) %s: migration targets run out', (version) => {
  it('cma_alloc stops with -ENOMEM after the first window, no further windows', () => {
    const { k, clock, a } = smallMachine(version, {}, 0);
    // non-CMA memory full of kernel pages, the CMA area full of anon pages
    const kernel: KernelBlock[] = [];
    for (;;) {
      const pfn = k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL);
      if (pfn < 0) break;
      kernel.push({ pfn, order: 0 });
    }
    expect(kernel.length).toBe(1024);
    const anon = k.rmap.create(ObjKind.ANON, 2048, 'anon');
    let n = 0;
    while (faultPage(k, anon, n) >= 0) n++;
    expect(n).toBe(1024);
    expect(k.alloc.freeCounts()).toEqual([0, 0]);
    // three free non-CMA pages: room for three migration targets only
    for (const b of kernel.splice(0, 3)) k.alloc.freePages(b.pfn, 0);
    const before = [...anon.pages.subarray(0, n)];

    const r = drive(cmaAlloc(k, a, 16, 0), clock);
    expect(r).toMatchObject({ pfn: -1, errno: -12, windows: 1, migrated: 3 });
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
    expect(k.trace.count('test_pages_isolated')).toBe(0);
    expect(k.vm.pgmigrate_success).toBe(3);
    expect(k.vm.cma_alloc_fail).toBe(1);
    const fn = version === '6.18' ? '__cma_alloc' : 'cma_alloc';
    expect(dmesg(k)[0]).toBe(`cma: ${fn}: a: alloc failed, req-size: 16 pages, ret: -12`);
    expect(traceLines(k, 'cma_alloc_finish')[0]).toMatch(/ errorno=-12$/);
    // the three migrations persist, everything else is where it was
    const moved = before.filter((pfn, i) => anon.pages[i] !== pfn);
    expect(moved).toEqual([A_BASE, A_BASE + 1, A_BASE + 2]);
    for (let i = 0; i < 3; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
    checkInvariants(k, { cmaLive: [[]], kernelBlocks: kernel });
  });
});

describe('(c) 6.18 cmaRetry=android with a pinned page in every window', () => {
  it('11 full scans, 10 sleeps of 100 ms, errorno -16', () => {
    const { k, clock, a } = smallMachine('6.18', { cmaRetry: 'android' });
    const anon = k.rmap.create(ObjKind.ANON, 501, 'anon');
    for (let i = 0; i <= 500; i++) expect(faultPage(k, anon, i)).toBe(A_BASE + i);
    for (let i = 0; i < 500; i++) releasePage(k, anon, i);
    k.alloc.pages.addPins(A_BASE + 500, 1);

    // count 1000, align 0: windows 0..24 per scan, every one contains offset 500
    const gen = cmaAlloc(k, a, 1000, 0);
    const sleeps: number[] = [];
    let r: CmaAllocOutcome;
    for (;;) {
      const s: IteratorResult<Sleep, CmaAllocOutcome> = gen.next();
      if (s.done) {
        r = s.value;
        break;
      }
      if (s.value.ns === CMA_RETRY_SLEEP_NS) sleeps.push(clock.now);
      clock.now += s.value.ns;
    }
    expect(sleeps).toHaveLength(10);
    expect(r).toMatchObject({ pfn: -1, errno: -16, windows: 11 * 25 });
    expect(r.busyPfns.every((p) => p === A_BASE + 500)).toBe(true);
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(11 * 25);
    expect(r.latencyNs).toBeGreaterThanOrEqual(10 * CMA_RETRY_SLEEP_NS);
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(dmesg(k)[0]).toBe('cma: __cma_alloc: a: alloc failed, req-size: 1000 pages, ret: -16');
    expect(traceLines(k, 'cma_alloc_finish')).toEqual([
      'cma_alloc_finish: name=a pfn=0x0 page=0000000000000000 count=1000 align=0 errorno=-16',
    ]);
    expect(anon.pages[500]).toBe(A_BASE + 500); // pins never move
    checkInvariants(k, ctxOf());
  });
});

/** One page-cache page at the base of 'a', then 63 anon pages right after it. */
function fileThenAnon(version: KernelVersion) {
  const m = smallMachine(version);
  const file = m.k.rmap.create(ObjKind.FILE, 1, '/data/file');
  expect(faultPage(m.k, file, 0)).toBe(A_BASE);
  const anon = m.k.rmap.create(ObjKind.ANON, 63, 'anon');
  for (let i = 0; i < 63; i++) expect(faultPage(m.k, anon, i)).toBe(A_BASE + 1 + i);
  return { ...m, file, anon };
}

describe.each(['6.18', '6.4'] as const)(
  '(d) %s: a file page with an extra reference',
  (version) => {
    it('fails its window with -EBUSY after 5 migrate_pages calls and stops scanning the window', () => {
      const { k, clock, a, file, anon } = fileThenAnon(version);
      k.alloc.pages.flags[A_BASE]! |= PG_DIRTY; // not dropped by reclaim_clean_pages_from_list
      k.alloc.pages.addGets(A_BASE, 1); // a concurrent read() copying from the folio

      // the whole area: a single window
      const r = drive(cmaAlloc(k, a, 1024, 0), clock);
      expect(r).toMatchObject({ pfn: -1, errno: -16, windows: 1, busyPfns: [A_BASE] });
      expect(k.vm.pgmigrate_fail).toBe(5);
      expect(k.trace.count('mm_migrate_pages')).toBe(5);
      expect(file.pages[0]).toBe(A_BASE);
      // the first isolation batch (COMPACT_CLUSTER_MAX = 32: the file page and anon 0..30) was
      // migrated in the first call; the scan then stopped, so anon 31..62 were never isolated
      expect(k.vm.pgmigrate_success).toBe(31);
      for (let i = 0; i < 31; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
      for (let i = 31; i < 63; i++) expect(anon.pages[i]).toBe(A_BASE + 1 + i);
      checkInvariants(k, ctxOf());
    });

    it('control: the same page without the extra reference is migrated and the window succeeds', () => {
      const { k, clock, a, file } = fileThenAnon(version);
      k.alloc.pages.flags[A_BASE]! |= PG_DIRTY;
      const r = drive(cmaAlloc(k, a, 1024, 0), clock);
      expect(r).toMatchObject({ pfn: A_BASE, errno: 0, windows: 1, migrated: 64 });
      expect(k.vm.pgmigrate_fail).toBe(0);
      expect(a.contains(file.pages[0]!)).toBe(false);
      expect(k.alloc.pages.flags[file.pages[0]!]! & PG_DIRTY).toBe(PG_DIRTY);
      checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
    });
  },
);

describe.each(['6.18', '6.4'] as const)('(e) %s: a clean file page', (version) => {
  it('is dropped by reclaim, not migrated', () => {
    const { k, clock, a, file, anon } = fileThenAnon(version);
    const r = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(r).toMatchObject({ pfn: A_BASE, errno: 0, windows: 1 });
    expect(file.pages[0]).toBe(-1);
    expect(file.nrResident).toBe(0);
    expect(k.vm.pgmigrate_success).toBe(63); // the anon pages only
    expect(k.vm.pgmigrate_fail).toBe(0);
    for (let i = 0; i < 63; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });

  it('control: a clean but mlocked (unevictable) file page is migrated instead', () => {
    const { k, clock, a, file } = fileThenAnon(version);
    k.alloc.pages.flags[A_BASE]! |= PG_MLOCKED;
    const r = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(r).toMatchObject({ pfn: A_BASE, errno: 0, migrated: 64 });
    expect(a.contains(file.pages[0]!)).toBe(false);
    expect(k.alloc.pages.flags[file.pages[0]!]! & PG_MLOCKED).toBe(PG_MLOCKED);
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });
});
