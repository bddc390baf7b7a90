// The mechanics of kernel-model.md §1 and §2 beyond the §7 cases: the bitmap with order_per_bit and an
// unaligned base, the window step, the early exits and their counters, the CMA-first threshold,
// the watermark, isolation accounting, merging at a CMA boundary and the trace formats.

import { describe, expect } from 'vitest';
import type { KernelSpec } from '../../src/kernel/boot.js';
import { type KernelVersion, MT } from '../../src/kernel/config.js';
import { cmaAlloc, cmaRelease } from '../../src/kernel/mm/cma.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../../src/kernel/mm/gfp.js';
import { populatePage, releasePage } from '../../src/kernel/mm/memory.js';
import { PageKind } from '../../src/kernel/mm/page.js';
import { ObjKind } from '../../src/kernel/mm/rmap.js';
import { cmaDebugfs } from '../../src/kernel/observe/procfs.js';
import {
  B,
  dmesg,
  freeCounts,
  LOWEST_PFN,
  touchAnon,
  traceAndLog,
  traceLines,
} from '../helpers.js';
import { type Boot, it, type MachineFixture } from './fixture.js';

/** 'svp' of 64 MiB at pfn 0xe0200 (an odd pageblock: base & 1023 = 512), order_per_bit 2. */
const BASE = 0xe0200;
const DRAM = 0xde000; // 4 MiB aligned; 8704 non-CMA pages below BASE
const opb2 = (version: KernelVersion = '6.18'): Boot => ({
  version,
  policies: LOWEST_PFN,
  machine: {
    memory: (BASE - DRAM + 16384) * 4096,
    dramBase: DRAM * 4096,
    minFree: 0,
    cma: [{ name: 'svp', size: '64MiB', base: BASE * 4096, orderPerBit: 2 }],
  },
});

describe('§1.2: a CMA pageblock never merges with its MOVABLE buddy', () => {
  it('boot leaves two order-9 blocks at an odd CMA base', ({ machine }) => {
    const { k } = machine(opb2());
    expect(k.alloc.isFreeHead(0xe0000, 9)).toBe(true);
    expect(k.alloc.isFreeHead(BASE, 9)).toBe(true);
    expect(k.alloc.isFreeHead(0xe0000, 10)).toBe(false);
    expect(freeCounts(k)).toEqual({ Fc: 16384, Fn: 8704 });
  });
});

describe.each(['6.18', '6.4'] as const)(
  '§2.2 bitmap on %s: order_per_bit 2, unaligned base',
  (v) => {
    it('align 10: offset 128 bits, the first window at bit 128 (pfn 0xe0400)', ({ machine }) => {
      const m = machine(opb2(v));
      const { k } = m;
      const svp = k.cma[0]!;
      expect([svp.alignMask(10), svp.alignOffset(10), svp.pagesToBits(10)]).toEqual([255, 128, 3]);
      const r = m.drive(cmaAlloc(k, svp, 10, 10));
      expect(r).toMatchObject({ pfn: 0xe0400, windows: 1 });
      expect(svp.bitmap[4]).toBe(0b111); // bits 128..130
      expect(svp.availableCount).toBe(16384 - 10);
      // debugfs used: 6.4 bitmap_weight << order_per_bit; 6.18 count - available_count (§2.6)
      expect(cmaDebugfs(k, svp).used).toBe(v === '6.4' ? 12 : 10);
      expect(svp.maxchunk()).toBe((4096 - 131) << 2);
    });

    it('-EBUSY: the next start is bitmap_no + mask + 1 (bit 384, pfn 0xe0800)', ({ machine }) => {
      const m = machine(opb2(v));
      const { k } = m;
      // CMA-first, smallest order first: the order-9 blocks at BASE and 0xe4000, then 0xe0400
      const a = touchAnon(k, 1030);
      for (let i = 0; i < 1029; i++) releasePage(k, a, i);
      expect(a.pages[1029]).toBe(0xe0405);
      k.alloc.pages.addPins(0xe0405, 1);
      const svp = k.cma[0]!;
      const r = m.drive(cmaAlloc(k, svp, 10, 10));
      expect(r).toMatchObject({ pfn: 0xe0800, windows: 2, busyPfns: [0xe0405] });
      expect(traceLines(k, 'cma_alloc_busy_retry')).toEqual([
        'cma_alloc_busy_retry: name=svp pfn=0xe0400 page=fffffc0003810000 count=10 align=10',
      ]);
      // a partial release clears ALIGN(4, 4) >> 2 = 1 bit (cma_clear_bitmap)
      expect(cmaRelease(k, svp, 0xe0800, 4)).toBe(true);
      expect(svp.bitmap[12]).toBe(0b110);
      expect(svp.availableCount).toBe(16384 - 6);
      expect(svp.releasePagesSuccess).toBe(4);
    });
  },
);

describe('§2.3: align is not clamped by cma_alloc itself', () => {
  it('align 12 steps 4096 pages after a busy window', ({ machine }) => {
    const m = machine({ version: '6.18', policies: LOWEST_PFN });
    const { k } = m;
    const a = touchAnon(k, 101);
    for (let i = 0; i < 100; i++) releasePage(k, a, i);
    k.alloc.pages.addPins(B + 100, 1);
    const r = m.drive(cmaAlloc(k, k.cma[0]!, 512, 12));
    expect(r).toMatchObject({ pfn: B + 4096, windows: 2, busyPfns: [B + 100] });
  });
});

describe('§2.3: requests cma_alloc refuses before any window', () => {
  it('6.18: count > area: -EBUSY, pr_err and finish trace, counted as a failure', ({ machine }) => {
    const m = machine('6.18');
    const { k } = m;
    const svp = k.cma[0]!;
    const seen = traceAndLog(k);
    const r = m.drive(cmaAlloc(k, svp, 65537, 0));
    expect(r).toMatchObject({ pfn: -1, errno: -16, windows: 0 });
    expect(seen).toEqual([
      'cma_alloc_start: name=svp request_count=65537 available_count=65536 total_count=65536 align=0',
      'printk: cma: __cma_alloc: svp: alloc failed, req-size: 65537 pages, ret: -16',
      'printk: cma: number of available pages: ',
      'printk: cma: range 0: 65536@0',
      'printk: cma: ',
      'printk: => 65536 free of 65536 total pages',
      'cma_alloc_finish: name=svp pfn=0x0 page=0000000000000000 count=65537 align=0 errorno=-16',
    ]);
    expect([k.vm.cma_alloc_fail, svp.allocPagesFail]).toEqual([1, 65537]);
  });

  it('6.4: count > area: goto out, no finish trace, counted as a failure', ({ machine }) => {
    const m = machine({ version: '6.4' });
    const { k } = m;
    const svp = k.cma[0]!;
    m.drive(cmaAlloc(k, svp, 65537, 0));
    expect(traceLines(k)).toEqual(['cma_alloc_start: name=svp count=65537 align=0']);
    expect([k.vm.cma_alloc_fail, svp.allocPagesFail]).toEqual([1, 65537]);
  });

  it.for([
    ['6.18', 0],
    ['6.4', 1],
  ] as const)(
    '%s: count 0 traces nothing; cma_alloc_fail += %i',
    ([version, fails], { machine }) => {
      const m = machine(version);
      const { k } = m;
      m.drive(cmaAlloc(k, k.cma[0]!, 0, 0));
      expect(traceLines(k)).toEqual([]);
      expect([k.vm.cma_alloc_success, k.vm.cma_alloc_fail, k.cma[0]!.allocPagesFail]).toEqual([
        0,
        fails,
        0,
      ]);
    },
  );
});

describe('§2.3: the order of the failure lines', () => {
  it('6.4: trace_cma_alloc_finish comes before the pr_err', ({ machine }) => {
    const m = machine({ version: '6.4' });
    const { k } = m;
    const svp = k.cma[0]!;
    m.drive(cmaAlloc(k, svp, 65536, 0));
    const seen = traceAndLog(k);
    m.drive(cmaAlloc(k, svp, 1, 0)); // no window left: -ENOMEM, pfn -1 (§2.7)
    expect(seen).toEqual([
      'cma_alloc_start: name=svp count=1 align=0',
      'cma_alloc_finish: name=svp pfn=0xffffffffffffffff page=0000000000000000 count=1 align=0 errorno=-12',
      'printk: cma: cma_alloc: svp: alloc failed, req-size: 1 pages, ret: -12',
    ]);
  });

  it('6.18: the pr_err and the free runs come before trace_cma_alloc_finish', ({ machine }) => {
    const m = machine('6.18');
    const { k } = m;
    const svp = k.cma[0]!;
    m.drive(cmaAlloc(k, svp, 65536, 0));
    const seen = traceAndLog(k);
    m.drive(cmaAlloc(k, svp, 1, 0)); // available_count 0: the early exit, -EBUSY
    expect(seen).toEqual([
      'cma_alloc_start: name=svp request_count=1 available_count=0 total_count=65536 align=0',
      'printk: cma: __cma_alloc: svp: alloc failed, req-size: 1 pages, ret: -16',
      'printk: cma: number of available pages: ',
      'printk: cma: range 0: ',
      'printk: cma: ',
      'printk: => 0 free of 65536 total pages',
      'cma_alloc_finish: name=svp pfn=0x0 page=0000000000000000 count=1 align=0 errorno=-16',
    ]);
  });
});

describe('§2.3 cma_debug_show_areas (6.18): "+" before every run not at bit 0', () => {
  it('the first run of a bitmap whose bit 0 is set starts with "+"', ({ machine }) => {
    const m = machine('6.18');
    const { k } = m;
    const svp = k.cma[0]!;
    m.drive(cmaAlloc(k, svp, 100, 0));
    m.drive(cmaAlloc(k, svp, 65500, 0)); // 65500 > available 65436: the early exit
    expect(dmesg(k).slice(-4)).toEqual([
      'cma: number of available pages: ',
      'cma: range 0: +65436@100',
      'cma: ',
      '=> 65436 free of 65536 total pages',
    ]);
  });
});

describe('§2.5: cma_release outside the area', () => {
  it.for(['6.18', '6.4'] as const)('%s: false, and nothing changes', (version, { machine }) => {
    const m = machine(version);
    const { k } = m;
    const svp = k.cma[0]!;
    m.drive(cmaAlloc(k, svp, 16, 0));
    expect(cmaRelease(k, svp, B - 16, 16)).toBe(false); // before the area
    expect(cmaRelease(k, svp, B + 65536, 1)).toBe(false); // just after it
    expect(cmaRelease(k, svp, B + 65530, 16)).toBe(false); // runs past its end
    expect([svp.availableCount, svp.releasePagesSuccess]).toEqual([65536 - 16, 0]);
    expect(traceLines(k, 'cma_release')).toEqual([]);
  });
});

describe('§1.6: the CMA-first test is NR_FREE_CMA_PAGES > NR_FREE_PAGES / 2', () => {
  it.for([
    [65536, false], // Fc == Fn: 65536 > 131072 / 2 is false
    [65535, true], // 65536 > 131071 / 2 = 65535
  ] as const)('Fn = %i: the first movable page is CMA: %s', ([fn, cma], { machine }) => {
    const { k } = machine({ version: '6.18', fn });
    const pfn = k.alloc.allocPages(0, GFP_HIGHUSER_MOVABLE, PageKind.ANON);
    expect(pfn >= B && pfn < B + 65536).toBe(cma);
  });
});

describe('§1.7: the watermark counts free CMA pages only with ALLOC_CMA', () => {
  it('unmovable allocations stop at free_noncma = min; movable ones go on', ({ machine }) => {
    const { k } = machine({
      version: '6.18',
      policies: LOWEST_PFN,
      machine: {
        memory: (2048 + 65536) * 4096,
        dramBase: (B - 2048) * 4096,
        minFree: 1000 * 4096,
        cma: [{ name: 'svp', size: '256MiB', base: B * 4096 }],
      },
    });
    let n = 0;
    while (k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL) >= 0) n++;
    expect(n).toBe(2048 - 1000); // free - unusable(all free CMA) > min
    expect(k.alloc.stats).toMatchObject({ allocFail: 1, oomWouldKill: 1 });
    const pfn = k.alloc.allocPages(0, GFP_HIGHUSER_MOVABLE, PageKind.ANON);
    expect(pfn).toBe(B);
  });
});

describe('§1.6 item 3, §2.4: isolated free pages count in neither counter', () => {
  it('isolating a free CMA pageblock takes 512 pages from both; undoing re-merges', ({
    machine,
  }) => {
    const { k } = machine('6.18');
    const pb = B >> 9;
    expect(k.alloc.isolatePageblock(pb)).toBe(true);
    expect(k.alloc.isolatePageblock(pb)).toBe(false); // already isolated: -EBUSY
    expect(freeCounts(k)).toEqual({ Fc: 65536 - 512, Fn: 40960 });
    expect(k.alloc.isFreeHead(B, 10)).toBe(false);
    k.alloc.unisolatePageblock(pb);
    expect(freeCounts(k)).toEqual({ Fc: 65536, Fn: 40960 });
    expect(k.alloc.isFreeHead(B, 10)).toBe(true);
  });
});

describe.each([
  ['6.18', ' nr_split=0'],
  ['6.4', ''], // nr_split arrived after 6.4 ("mm/migrate: add nr_split to ...", Oct 2023)
] as const)('§2.6 mm_migrate_pages on %s', (version, split) => {
  it('one call for the 10 pages of the window', ({ machine }) => {
    const m = machine({ version, policies: LOWEST_PFN });
    const { k } = m;
    touchAnon(k, 10);
    m.drive(cmaAlloc(k, k.cma[0]!, 10, 0));
    expect(traceLines(k, 'mm_migrate_pages')).toEqual([
      `mm_migrate_pages: nr_succeeded=10 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0${split} mode=MIGRATE_SYNC reason=contig_range`,
    ]);
  });
});

describe('§2.3–§2.4: which errors end cma_alloc', () => {
  it('-ENOMEM (no migration target) ends the call at its first window', ({ machine }) => {
    const m = machine({ version: '6.18', fn: 0 });
    const { k } = m;
    touchAnon(k, 65536); // every page of the zone is in use
    const r = m.drive(cmaAlloc(k, k.cma[0]!, 1, 0));
    expect(r).toMatchObject({ pfn: -1, errno: -12, windows: 1 });
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
    expect([k.vm.pgmigrate_success, k.vm.pgmigrate_fail]).toEqual([0, 1]);
  });

  it('-EINTR: a fatal signal fails even an all-free window', ({ machine }) => {
    const m = machine('6.18');
    const { k } = m;
    k.currentFatal = true;
    const r = m.drive(cmaAlloc(k, k.cma[0]!, 16, 0));
    expect(r).toMatchObject({ pfn: -1, errno: -4, windows: 1 });
    expect(traceLines(k, 'cma_alloc_finish')).toEqual([
      'cma_alloc_finish: name=svp pfn=0x0 page=0000000000000000 count=16 align=0 errorno=-4',
    ]);
  });

  it('a referenced file page: 5 tries, the rest of the window unscanned, then -EBUSY', ({
    machine,
  }) => {
    const m = machine({ version: '6.18', policies: LOWEST_PFN });
    const { k } = m;
    const file = k.rmap.create(ObjKind.FILE, 1, 'file:F');
    expect(populatePage(k, file, 0, false)).toBe(B);
    k.alloc.pages.addGets(B, 1); // an I/O in flight
    touchAnon(k, 40); // B+1 .. B+40
    const r = m.drive(cmaAlloc(k, k.cma[0]!, 64, 0));
    // window 0 migrates the 31 anon pages of the first batch (COMPACT_CLUSTER_MAX = 32), fails
    // the file page on 5 migrate_pages calls and never scans B+32..B+40; window 1 moves those 9
    expect(r).toMatchObject({ pfn: B + 1, windows: 2, busyPfns: [B], migrated: 40 });
    expect([k.vm.pgmigrate_success, k.vm.pgmigrate_fail]).toEqual([40, 5]);
  });
});

describe('§1.7: default WMARK_MIN (init_per_zone_wmark_min, __setup_per_zone_wmarks)', () => {
  const mins = (machine: MachineFixture, spec: KernelSpec['machine']) =>
    machine({ version: '6.18', policies: { pcp: 'on' }, machine: spec }).k.alloc.zones.map(
      (z) => z.minWatermark,
    );

  it('min_free_kbytes comes from managed pages: reserved memory is not counted', ({ machine }) => {
    // 1 GiB - 96 MiB managed: int_sqrt(950272 kB * 16) = 3899 kB = 974 pages
    expect(mins(machine, { memory: '1GiB', reserved: '96MiB' })).toEqual([974]);
  });

  it('ZONE_MOVABLE is not lowmem: managed / 1024 pages, clamped to [32, 128]', ({ machine }) => {
    // normal: int_sqrt(786432 kB * 16) = 3547 kB = 886 pages; movable: 65536 / 1024 = 64
    expect(mins(machine, { memory: '1GiB', movable: '256MiB' })).toEqual([886, 64]);
    expect(mins(machine, { memory: '1GiB', movable: '16MiB' })).toEqual([1015, 32]);
  });
});

describe('§1.2, §1.5: PCP types merge across pageblocks; the buddy takes the freed type', () => {
  it('an UNMOVABLE order-9 block merges with a free MOVABLE buddy (6.18 __free_one_page)', ({
    machine,
  }) => {
    const { k } = machine('6.18');
    const a = k.alloc;
    const low = B - 40960; // the lowest free non-CMA block, order 10
    // UNMOVABLE order 9: claims the whole order-10 MOVABLE block (§1.5), keeps its upper half free
    expect(a.allocPages(9, GFP_KERNEL, PageKind.KERNEL)).toBe(low);
    const pb = low >> 9;
    expect([a.pbMt[pb], a.pbMt[pb + 1]]).toEqual([MT.UNMOVABLE, MT.UNMOVABLE]);
    a.setPageblockMt(pb + 1, MT.MOVABLE);
    a.freePages(low, 9);
    expect(a.isFreeHead(low, 10)).toBe(true);
    expect(a.pbMt[pb + 1]).toBe(MT.UNMOVABLE);
    expect(freeCounts(k)).toEqual({ Fc: 65536, Fn: 40960 });
  });
});
