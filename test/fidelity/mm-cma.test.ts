// kernel-model.md §7 cases for the memory core: C1, C2, C3, C5, C6, C9.
import { describe, expect } from 'vitest';
import { cmaAlloc, cmaRelease } from '../../src/kernel/mm/cma.js';
import { GFP_KERNEL } from '../../src/kernel/mm/gfp.js';
import { releasePage } from '../../src/kernel/mm/memory.js';
import { PageKind, PG_MLOCKED } from '../../src/kernel/mm/page.js';
import { cmaMap } from '../../src/metrics/view.js';
import { B, dmesg, freeCounts, LOWEST_PFN, touchAnon, traceLines } from '../helpers.js';
import { inCma, VERSION_PLACEMENTS } from './actors.js';
import { it } from './fixture.js';

const HEAP_200M = { count: 51200, align: 8 }; // §7.0: align = min(get_order(200 MiB), 8)

describe('C1: the CMA-first heuristic puts anon memory in CMA', () => {
  it('all 16384 pages come from MIGRATE_CMA while free_cma > free_noncma', ({ machine }) => {
    const { k } = machine({ version: '6.18', policies: LOWEST_PFN });
    expect(freeCounts(k)).toEqual({ Fc: 65536, Fn: 40960 });
    const a = touchAnon(k, 16384);
    expect([...a.pages].every(inCma)).toBe(true);
    expect(k.alloc.freeCounts()[1]).toBe(49152); // nr_free_cma
    // lowest-PFN placement: A's pages sit at CMA offsets [0, 16384)
    expect(a.pages[0]).toBe(B);
    expect(a.pages[16383]).toBe(B + 16383);
  });

  it('control: with Fn = 100000, CMA-first switches on only once Fn falls below Fc', ({
    machine,
  }) => {
    const { k } = machine({ version: '6.18', fn: 100000 });
    const a = touchAnon(k, 40000);
    expect(inCma(a.pages[0]!)).toBe(false);
    // 100000 - 34464 = 65536: from there the heuristic alternates and holds Fc ≈ Fn
    expect(inCma(a.pages[34463]!)).toBe(false);
    const { Fc, Fn } = freeCounts(k);
    expect(Math.abs(Fc - Fn)).toBeLessThanOrEqual(1);
    expect(Fc + Fn).toBe(165536 - 40000);
  });
});

describe('C2: unmovable allocations never use CMA', () => {
  it('TEE_IOC_SHM_ALLOC sizes with Fc = 65536, Fn = 1000', ({ machine }) => {
    const { k } = machine({ version: '6.18', fn: 1000 });
    const exact = (mib: number) => k.alloc.allocPagesExact(mib * 256, GFP_KERNEL, PageKind.KERNEL);
    const oneMiB = exact(1);
    expect(oneMiB).toBeGreaterThanOrEqual(0);
    expect(inCma(oneMiB)).toBe(false);
    expect(exact(4)).toBe(-1); // needs a free non-CMA order-10 block
    expect(exact(8)).toBe(-1); // order 11 > MAX_PAGE_ORDER
    expect(freeCounts(k)).toEqual({ Fc: 65536, Fn: 1000 - 256 });
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C3 on %s, placement=%s: a clean success and its counters',
  (version, placement) => {
    it('window 0, no migration, no retry', ({ machine }) => {
      const m = machine({ version, policies: { placement } });
      const { k } = m;
      const r = m.drive(cmaAlloc(k, k.cmaByName('svp')!, HEAP_200M.count, HEAP_200M.align));
      const svp = k.cma[0]!;
      expect(r).toMatchObject({ pfn: B, errno: 0, windows: 1, migrated: 0, busyPfns: [] });
      expect(svp.allocPagesSuccess).toBe(51200);
      expect(k.vm.cma_alloc_success).toBe(1);
      expect(svp.availableCount).toBe(14336);
      expect(svp.used()).toBe(51200);
      expect(svp.maxchunk()).toBe(14336);
      expect(k.alloc.freeCounts()[1]).toBe(65536 - 51200);
      expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
      expect(k.vm.pgmigrate_success).toBe(0);
      const start =
        version === '6.4'
          ? 'cma_alloc_start: name=svp count=51200 align=8'
          : 'cma_alloc_start: name=svp request_count=51200 available_count=65536 total_count=65536 align=8';
      expect(traceLines(k, 'cma_alloc_start')).toEqual([start]);
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([
        'cma_alloc_finish: name=svp pfn=0xe0000 page=fffffc0003800000 count=51200 align=8 errorno=0',
      ]);
      expect(dmesg(k)).toEqual([]);

      expect(cmaRelease(k, svp, r.pfn, 51200)).toBe(true);
      expect(svp.releasePagesSuccess).toBe(51200);
      expect(k.alloc.freeCounts()[1]).toBe(65536);
      expect(traceLines(k, 'cma_release')).toEqual([
        'cma_release: name=svp pfn=0xe0000 page=fffffc0003800000 count=51200',
      ]);
    });
  },
);

describe.each([false, true])(
  'C5/C6 (mlocked=%s): unpinned movable pages are migrated',
  (mlocked) => {
    it('window 0 succeeds after migrating A to non-CMA memory', ({ machine }) => {
      const m = machine({ version: '6.18', policies: LOWEST_PFN });
      const { k } = m;
      const a = touchAnon(k, 16384);
      if (mlocked) for (const pfn of a.pages) k.alloc.pages.flags[pfn]! |= PG_MLOCKED;
      const r = m.drive(cmaAlloc(k, k.cma[0]!, HEAP_200M.count, HEAP_200M.align));
      expect(r).toMatchObject({ pfn: B, windows: 1, migrated: 16384 });
      expect(k.vm.pgmigrate_success).toBe(16384);
      expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
      // Fc outside the window (14336) < Fn at every step: every target is non-CMA (§7 C5)
      const pages = k.alloc.pages;
      for (let i = 0; i < 16384; i++) {
        const pfn = a.pages[i]!;
        expect(inCma(pfn)).toBe(false);
        expect([pages.kind[pfn], k.rmap.ownerId(pfn), k.rmap.indexOf(pfn)]).toEqual([
          PageKind.ANON,
          a.id,
          i,
        ]);
        expect((pages.flags[pfn]! & PG_MLOCKED) !== 0).toBe(mlocked);
      }
      expect(freeCounts(k)).toEqual({ Fc: 14336, Fn: 40960 - 16384 });
    });
  },
);

describe.each(['6.18', '6.4'] as const)(
  'C9 on %s: one pinned page costs one aligned hop',
  (version) => {
    it('window 0 fails at B+100, window 256 succeeds', ({ machine }) => {
      const m = machine({ version, policies: LOWEST_PFN });
      const { k } = m;
      const a = touchAnon(k, 101);
      for (let i = 0; i < 100; i++) releasePage(k, a, i);
      expect(a.pages[100]).toBe(B + 100);
      k.alloc.pages.addPins(B + 100, 1); // held by a TEE registration (FOLL_PIN)
      const svp = k.cma[0]!;
      // the TUI's movable run: everything after the pinned page
      expect(cmaMap(k, svp, 64).movableRun).toBe(65536 - 101);
      const r = m.drive(cmaAlloc(k, svp, HEAP_200M.count, HEAP_200M.align));
      expect(r).toMatchObject({ pfn: B + 256, windows: 2, busyPfns: [B + 100] });
      expect(traceLines(k, 'test_pages_isolated')).toEqual([
        'test_pages_isolated: start_pfn=0xe0000 end_pfn=0xec800 fin_pfn=0xe0064 ret=fail',
        // the walk steps over whole buddy blocks, so fin_pfn ends past end_pfn: the free order-9
        // block [0xec800, 0xeca00) straddles the end (__test_page_isolated_in_pageblock)
        'test_pages_isolated: start_pfn=0xe0100 end_pfn=0xec900 fin_pfn=0xeca00 ret=success',
      ]);
      expect(traceLines(k, 'cma_alloc_busy_retry')).toEqual([
        'cma_alloc_busy_retry: name=svp pfn=0xe0000 page=fffffc0003800000 count=51200 align=8',
      ]);
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([
        'cma_alloc_finish: name=svp pfn=0xe0100 page=fffffc0003804000 count=51200 align=8 errorno=0',
      ]);
      expect(svp.allocPagesSuccess).toBe(51200);
      expect(k.alloc.freeCounts()[1]).toBe(65536 - 1 - 51200);
      // [B+101, B+256) and [B+51456, B+65536) are left: the second is the longest
      expect(cmaMap(k, svp, 64).movableRun).toBe(65536 - 51456);
    });
  },
);
