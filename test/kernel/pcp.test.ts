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
function machine(version: KernelVersion, cma?: string) {
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
        ...(cma ? { reserved: '4MiB', cma: [{ name: 'c', size: cma }] } : {}),
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
