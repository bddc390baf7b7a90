// The per-CPU page lists (policy pcp=on, src/kernel/mm/pcp.ts) against list orders derived by
// hand from mm/page_alloc.c: rmqueue_pcplist(), rmqueue_bulk(), free_unref_page_commit(),
// free_pcppages_bulk(), nr_pcp_free(), nr_pcp_alloc(), drain_all_pages().

import { describe, expect, it } from 'vitest';
import { bootKernel } from '../../src/kernel/boot.js';
import { type KernelVersion, MT, NR_PAGE_ORDERS } from '../../src/kernel/config.js';
import { cmaAlloc } from '../../src/kernel/mm/cma.js';
import { GFP_KERNEL } from '../../src/kernel/mm/gfp.js';
import { faultPage, releasePage } from '../../src/kernel/mm/memory.js';
import { PageKind } from '../../src/kernel/mm/page.js';
import { zoneBatchsize } from '../../src/kernel/mm/pcp.js';
import { ObjKind } from '../../src/kernel/mm/rmap.js';
import { drive, type TestClock } from '../helpers.js';
import { checkInvariants } from './invariants.js';

const MOVABLE_ORDER0 = 1; // order_to_pindex(MIGRATE_MOVABLE, 0)
const UNMOVABLE_ORDER0 = 0;

/**
 * 64 MiB at pfn 0 (16384 managed pages), one CPU, min watermark 0, placement=kernel so that the
 * buddy hands out ascending pfns from boot. zone_batchsize(): min(16384 >> 10, 256) / 4 = 4,
 * rounddown_pow_of_two(4 + 2) - 1 = 3. WMARK_LOW = 0 + max(0, 16384 * 10 / 10000) = 16, so
 * zone_highsize() = max(16 / 1, 3 << 2) = 16 (6.18: high_min; high_max = 16384 / 8 = 2048).
 */
function machine(version: KernelVersion, cma?: string, reserved: string | number = '4MiB') {
  const clock: TestClock = { now: 0 };
  const k = bootKernel(
    {
      version,
      policies: { placement: 'kernel', pcp: 'on' },
      machine: {
        memory: '64MiB',
        dramBase: 0,
        minFree: 0,
        cpus: 1,
        ...(cma ? { reserved, cma: [{ name: 'c', size: cma }] } : {}),
      },
    },
    clock,
  );
  const a = k.alloc;
  // order-0 user pages of one anon object (GFP_HIGHUSER_MOVABLE), freed by pfn
  const obj = k.rmap.create(ObjKind.ANON, 16384, 'anon');
  let next = 0;
  const user = () => faultPage(k, obj, next++);
  const free = (pfn: number) => releasePage(k, obj, obj.pages.indexOf(pfn));
  const list = (pindex: number) => {
    const out: number[] = [];
    const fl = a.pcp!.lists;
    for (let p = fl.head(a.pcp!.listBase(0, 0) + pindex); p >= 0; p = fl.after(p)) out.push(p);
    return out;
  };
  return { k, a, clock, user, free, list, count: () => a.pcp!.count(0, 0) };
}

describe('zone_batchsize()', () => {
  it('is ~0.1% of the zone or 1 MiB, over 4, as 2^n - 1', () => {
    expect([2048, 16384, 262144, 1 << 20, 1 << 22].map(zoneBatchsize)).toEqual([1, 3, 63, 63, 63]);
  });
});

describe.each(['6.4', '6.18'] as const)('pcp=on %s: list order', (version) => {
  it('refills to the tail, allocates from the head, frees to the head', () => {
    const { k, a, user, free, list, count } = machine(version);
    // rmqueue_pcplist(): MOVABLE order 0 is empty; rmqueue_bulk() takes batch = max(3 >> 0, 2) =
    // 3 pages by __rmqueue() (6.18: nr_pcp_alloc() gives 3 << alloc_factor 0), each appended with
    // list_add_tail(): [0, 1, 2]; the head, 0, is handed out
    expect(user()).toBe(0);
    expect(list(MOVABLE_ORDER0)).toEqual([1, 2]);
    expect(count()).toBe(2);
    // NR_FREE_PAGES counts neither the allocated page nor the two on the list
    expect(a.freeCounts()[0]).toBe(16384 - 3);
    expect(user()).toBe(1);
    // free_unref_page_commit(): list_add() at the head
    free(0);
    free(1);
    expect(list(MOVABLE_ORDER0)).toEqual([1, 0, 2]);
    expect(a.pages.kind[1]).toBe(PageKind.PCP);
    // an unmovable request has its own list, refilled by __rmqueue(UNMOVABLE): no UNMOVABLE
    // block, so __rmqueue_claim() (6.4 __rmqueue_fallback()) claims the largest MOVABLE one, the
    // order-10 block 1024 at the head, and __rmqueue_smallest() splits it: 1024, 1025, 1026
    expect(a.allocPages(0, GFP_KERNEL, PageKind.KERNEL)).toBe(1024);
    expect(list(UNMOVABLE_ORDER0)).toEqual([1025, 1026]);
    expect([user(), user(), user()]).toEqual([1, 0, 2]);
    // empty again: 6.4 refills pcp->batch = 3 pages. 6.18's nr_pcp_alloc(): the frees halved
    // alloc_factor to 0, the unmovable refill raised it to 1 (it is per CPU, not per list), so
    // 3 << 1 = 6 pages, and alloc_factor 2; pcp->high grew by each batch: 16 + 3 + 3 + 6 = 28
    expect(user()).toBe(3);
    expect(list(MOVABLE_ORDER0)).toEqual(version === '6.4' ? [4, 5] : [4, 5, 6, 7, 8]);
    // 6.4 refills 6, 7, 8 on the way
    expect([user(), user(), user(), user(), user()]).toEqual([4, 5, 6, 7, 8]);
    // the next refill: 6.4 takes 3 again; 6.18 3 << 2 = 12 (max_nr_alloc = 28 + 12 - 2 - 3)
    expect(user()).toBe(9);
    expect(list(MOVABLE_ORDER0)).toEqual(
      version === '6.4' ? [10, 11] : [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    );
    checkInvariants(k);
  });

  it('alloc_pages_exact() frees its tail to the buddy, at the tail of the free list', () => {
    const { k, a } = machine(version);
    const fl = a.freeLists!;
    const unmovable0 = a.zones[0]!.listBase + MT.UNMOVABLE * NR_PAGE_ORDERS;
    const buddyList = () => {
      const out: number[] = [];
      for (let p = fl.head(unmovable0); p >= 0; p = fl.after(p)) out.push(p);
      return out;
    };
    const pgfree = a.stats.pgfree;
    // 3 pages: an order-2 block. rmqueue_bulk() refills the UNMOVABLE order-2 list with
    // max(3 >> 2, 2) = 2 blocks (the fallback claims pageblock 0 for UNMOVABLE): 0 is handed
    // out, 4 stays on the list. make_alloc_exact() frees page 3 by __free_pages_ok(FPI_TO_TAIL):
    // to the buddy (its buddy 2 is in use: no merge), not to a per-CPU list
    expect(a.allocPagesExact(3, GFP_KERNEL, PageKind.KERNEL)).toBe(0);
    expect(a.pages.kind[3]).toBe(PageKind.FREE);
    expect(a.pcp!.count(0, 0)).toBe(4);
    expect(a.freeCounts()[0]).toBe(16384 - 8 + 1);
    expect(a.stats.pgfree - pgfree).toBe(1);
    // the next takes block 4 from the list; its page 7 goes after 3 (list_add_tail)
    expect(a.allocPagesExact(3, GFP_KERNEL, PageKind.KERNEL)).toBe(4);
    expect(buddyList()).toEqual([3, 7]);
    expect(a.pcp!.count(0, 0)).toBe(0);
    checkInvariants(k);
  });
});

describe('pcp=on 6.4: past high, free_pcppages_bulk() returns the oldest pages', () => {
  it('frees nr_pcp_free() pages from the tail of the list just freed to', () => {
    const { k, a, user, free, list, count } = machine('6.4');
    // 19 allocations: refills of 3 hand out 0..18; the seventh refill (18, 19, 20) leaves [19, 20]
    for (let i = 0; i < 19; i++) expect(user()).toBe(i);
    expect(list(MOVABLE_ORDER0)).toEqual([19, 20]);
    // frees of 0..12 go to the head: count 2 + 13 = 15 < high 16
    for (let p = 0; p <= 12; p++) free(p);
    expect(count()).toBe(15);
    // freeing 13 makes count 16 >= high: nr_pcp_free() = clamp(3 << free_factor 0, 3, 16 - 3) =
    // 3, free_factor becomes 1; free_pcppages_bulk() takes list_last_entry() three times: 20,
    // 19, 0 go back to the buddy
    free(13);
    expect(list(MOVABLE_ORDER0)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect([a.pages.kind[0], a.pages.kind[19], a.pages.kind[20]]).toEqual([0, 0, 0]);
    checkInvariants(k);
    // 14, 15, 16 bring it to 16 again, without an allocation in between: free_factor doubles
    // the batch, 3 << 1 = 6 < 13, so the six oldest leave: 1..6
    for (const p of [14, 15, 16]) free(p);
    expect(list(MOVABLE_ORDER0)).toEqual([16, 15, 14, 13, 12, 11, 10, 9, 8, 7]);
    expect(count()).toBe(10);
    checkInvariants(k);
  });
});

describe.each(['6.4', '6.18'] as const)('pcp=on %s: drain_all_pages()', (version) => {
  it('alloc_contig_range() drains the lists, so a CMA page on a list does not block it', () => {
    // 64 MiB with an 8 MiB CMA area at its top: free CMA 2048 pages is not above half of the
    // free 15360, so user pages come from MOVABLE first; 6 user pages and their frees leave
    // pages of the normal zone on the list. Then the CMA-first rule: fill memory until CMA is
    // more than half of what is free, so that refills take CMA pages.
    const { k, clock, user, free, count } = machine(version, '8MiB');
    const area = k.cmaByName('c')!;
    const got: number[] = [];
    let cmaPage = user();
    while (!area.contains(cmaPage)) {
      got.push(cmaPage);
      cmaPage = user(); // until a refill takes its pages from the CMA area (CMA first)
    }
    free(cmaPage);
    expect(count()).toBeGreaterThan(0);
    const r = drive(cmaAlloc(k, area, area.count, 0), clock);
    expect(r.errno).toBe(0);
    // the drain put every listed page back in the buddy
    expect(count()).toBe(0);
    for (const p of got) free(p);
    checkInvariants(k);
  });
});

describe('pcp=on 6.18: free_high after consecutive high-order frees', () => {
  it('needs free_count >= batch + high_min / 2 (c544a952ba61, 6.16)', () => {
    const { k, a, count } = machine('6.18');
    // eight order-1 UNMOVABLE blocks: each empty-list refill takes max(3 >> 1, 2) = 2 blocks,
    // raising pcp->high by 3 (16 -> 28); the allocations leave free_count 0 and the lists empty
    const blocks: number[] = [];
    for (let i = 0; i < 8; i++) blocks.push(a.allocPages(1, GFP_KERNEL, PageKind.KERNEL));
    expect(count()).toBe(0);
    // free_frozen_page_commit(): free_high = free_count >= 3 + 16 / 2 = 11 and the previous free
    // was of an order above 0; free_count grows by 2 per free (0, 2, ..., 10 before the sixth),
    // and count stays below pcp->high: the six blocks stay on the list
    for (let i = 0; i < 6; i++) a.freePages(blocks[i]!, 1);
    expect(count()).toBe(12);
    // the seventh sees free_count 12: nr_pcp_high() returns 0 and nr_pcp_free() takes
    // min(count, batch << CONFIG_PCP_BATCH_SCALE_MAX) = 14: the lists empty
    a.freePages(blocks[6]!, 1);
    expect(count()).toBe(0);
    a.freePages(blocks[7]!, 1);
    expect(count()).toBe(0);
    checkInvariants(k);
  });
});

describe.each(['6.4', '6.18'] as const)('pcp=on %s: ZONE_BELOW_HIGH', (version) => {
  it('is set by an allocation below WMARK_HIGH and shrinks pcp->high until the zone is above', () => {
    // 64 MiB, 2008 pages reserved, a 56 MiB CMA area at the top (pfn 2048 on): 16384 - 2008 =
    // 14376 managed pages, of which 40 are not CMA. __setup_per_zone_wmarks() with
    // min_free_kbytes 0: WMARK_MIN 0, gap = max(0, 14376 * 10 / 10000) = 14, WMARK_LOW 14,
    // WMARK_HIGH 28. zone_batchsize(): 14376 >> 10 = 14, / 4 = 3, rounddown_pow_of_two(3 + 1) - 1
    // = 3; high_min = max(14 / 1, 3 << 2) = 14 (6.4: pcp->high); 6.18 high_max = 14376 / 8 = 1797
    const { k, a, count } = machine(version, '56MiB', 2008 * 4096);
    const zone = a.zones[0]!;
    expect([zone.minWatermark, zone.lowWatermark, zone.highWatermark]).toEqual([0, 14, 28]);
    const high = () => a.pcp!.high(0, 0);
    // free pages an UNMOVABLE request may use: no ALLOC_CMA, so not the CMA ones
    const nonCma = () => zone.freePages - zone.freeCma;
    const held: number[] = [];
    const kernelPage = () => held.push(a.allocPages(0, GFP_KERNEL, PageKind.KERNEL));
    if (version === '6.4') {
      // no such flag: 22 allocations and their frees leave it clear and pcp->high at 14
      for (let i = 0; i < 22; i++) kernelPage();
      for (const p of held.reverse()) a.freePages(p, 0);
      expect([zone.belowHigh, high()]).toEqual([false, 14]);
      checkInvariants(k);
      return;
    }
    // get_page_from_freelist() tests zone_watermark_fast(WMARK_HIGH) with the request's flags
    // before WMARK_MIN. nr_pcp_alloc() per empty-list refill: batch = 3 << alloc_factor, high +=
    // batch (not while ZONE_BELOW_HIGH), alloc_factor++ while batch <= high - count - 3.
    // 1st: 40 > 28; refill 3 (high 17, alloc_factor 1), 37 left; 2nd, 3rd from the list
    // 4th: 37 > 28; refill 6 (high 23, alloc_factor 2), 31 left; 5th-9th from the list
    // 10th: 31 > 28; refill 12 (high 35, alloc_factor 3), 19 left
    for (let i = 0; i < 10; i++) kernelPage();
    expect([zone.belowHigh, high(), count(), nonCma()]).toEqual([false, 35, 11, 19]);
    // 11th: 19 <= 28 (the 14336 free CMA pages do not count): set_bit(ZONE_BELOW_HIGH); 19 > 0
    // = WMARK_MIN, so it goes on, from the list
    kernelPage();
    expect([zone.belowHigh, high(), count()]).toEqual([true, 35, 10]);
    // 12th-21st from the list; the 22nd refills 3 << 3 = 24 <= max_nr_alloc = 35 - 0 - 3 = 32
    // (alloc_factor 4) without raising high (35, not 59): the buddy has 19 of them
    for (let i = 0; i < 11; i++) kernelPage();
    expect([high(), count(), nonCma()]).toEqual([35, 18, 0]);
    // free_frozen_page_commit(), freeing the 22 in reverse: free_count 0 (halved by each
    // allocation) + 1 per free. nr_pcp_high() under ZONE_BELOW_HIGH: pcp->high = max(high -
    // max(free_count, 3), 14) and returns max(count, 14), so every free that leaves count >= 14
    // bulk-frees nr_pcp_free() = clamp(free_count, 3, count - 3):
    //   1st: count 19, free_count 1: high 35 - 3 = 32; bulk clamp(1, 3, 16) = 3: count 16, buddy 3
    const frees = held.reverse();
    const freeNext = (n: number) => {
      for (let i = 0; i < n; i++) a.freePages(frees.shift()!, 0);
    };
    freeNext(1);
    expect([high(), count(), nonCma(), zone.belowHigh]).toEqual([32, 16, 3, true]);
    //   2nd: count 17, free_count 2: high 29; bulk 3 (clamp(2, 3, 14)): count 14, buddy 6
    //   3rd: count 15, free_count 3: high 26; bulk 3: count 12, buddy 9
    //   4th: count 13: high 22, returns 14: nothing; 5th: count 14, free_count 5: high 17; bulk 5:
    //   count 9, buddy 14
    freeNext(4);
    expect([high(), count(), nonCma()]).toEqual([17, 9, 14]);
    //   6th: high max(17 - 6, 14) = 14; 6th-9th: count 10..13; 10th: count 14, free_count 10:
    //   bulk clamp(10, 3, 11) = 10: count 4, buddy 24 <= 28 (free CMA does not count): still set
    freeNext(5);
    expect([high(), count(), nonCma(), zone.belowHigh]).toEqual([14, 4, 24, true]);
    //   11th-19th: count 5..13; 20th: count 14, free_count 20: bulk 11: count 3, buddy 35 > 28:
    //   zone_watermark_ok(WMARK_HIGH, alloc_flags 0) holds, clear_bit(ZONE_BELOW_HIGH)
    freeNext(9);
    expect([count(), zone.belowHigh]).toEqual([13, true]);
    freeNext(1);
    expect([high(), count(), nonCma(), zone.belowHigh]).toEqual([14, 3, 35, false]);
    //   21st, 22nd: count 4, 5 < high 14: the lists keep them
    freeNext(2);
    expect([high(), count(), nonCma()]).toEqual([14, 5, 35]);
    checkInvariants(k);
  });
});

describe.each(['6.4', '6.18'] as const)('pcp=on %s: watermarks with a ZONE_MOVABLE', (version) => {
  it('6.4 counts ZONE_MOVABLE as lowmem; 6.6+ caps its WMARK_MIN (§1.7)', () => {
    // 1 GiB with 256 MiB movable, 4 CPUs: normal 196608 managed pages, movable 65536.
    // calculate_min_free_kbytes(): nr_free_buffer_pages() counts ZONE_NORMAL only (both
    // versions): int_sqrt(786432 kB * 16) = 3547 kB, pages_min = 886.
    // 6.18: lowmem_pages = 196608. Normal: tmp = 886, WMARK_MIN 886, gap = max(886 / 4,
    // 196608 * 10 / 10000) = max(221, 196) = 221: LOW 1107, HIGH 1328. Movable: tmp = 886 *
    // 65536 / 196608 = 295, WMARK_MIN = clamp(65536 / 1024, 32, 128) = 64, gap = max(73, 65) = 73:
    // LOW 137, HIGH 210.
    // 6.4: lowmem_pages = 262144. Normal: tmp = 886 * 196608 / 262144 = 664 = WMARK_MIN, gap =
    // max(166, 196) = 196: LOW 860, HIGH 1056. Movable: tmp = 886 * 65536 / 262144 = 221 =
    // WMARK_MIN, gap = max(55, 65) = 65: LOW 286, HIGH 351.
    const k = bootKernel(
      {
        version,
        policies: { pcp: 'on' },
        machine: { memory: '1GiB', movable: '256MiB', cpus: 4 },
      },
      { now: 0 },
    );
    const marks = k.alloc.zones.map((z) => [z.minWatermark, z.lowWatermark, z.highWatermark]);
    expect(marks).toEqual(
      version === '6.4'
        ? [
            [664, 860, 1056],
            [221, 286, 351],
          ]
        : [
            [886, 1107, 1328],
            [64, 137, 210],
          ],
    );
    // zone_batchsize(): normal 192 / 4 = 48, rounddown_pow_of_two(72) - 1 = 63; movable 64 / 4 =
    // 16, rounddown_pow_of_two(24) - 1 = 15. high_min = max(LOW / 4 CPUs, batch << 2):
    // 6.4 normal max(215, 252) = 252, movable max(71, 60) = 71;
    // 6.18 normal max(276, 252) = 276, movable max(34, 60) = 60
    const highs = [0, 1].map((z) => k.alloc.pcp!.high(z, 0));
    expect(highs).toEqual(version === '6.4' ? [252, 71] : [276, 60]);
  });
});
