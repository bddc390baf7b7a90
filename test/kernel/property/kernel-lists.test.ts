// placement=kernel: the free-list discipline of mm/page_alloc.c in 6.4 and 6.18 (§1.4, §1.5).

import { describe, expect, it } from 'vitest';
import { bootKernel } from '../../../src/kernel/boot.js';
import { type KernelVersion, MT, type Policies } from '../../../src/kernel/config.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import { GFP_KERNEL } from '../../../src/kernel/mm/gfp.js';
import { faultPage, releasePage } from '../../../src/kernel/mm/memory.js';
import { PageKind } from '../../../src/kernel/mm/page.js';
import { ObjKind } from '../../../src/kernel/mm/rmap.js';
import { checkInvariants } from '../invariants.js';

// ---- placement=kernel: the kernel's list discipline (mm/page_alloc.c, 6.4 and 6.18) ------------

/** `memory` at pfn 0, no reserve, min watermark 0, placement=kernel, the buddy alone (pcp=off). */
function kernelMachine(version: KernelVersion, memory: string, cma: string[] = []): Kernel {
  const machine = {
    memory,
    dramBase: 0,
    minFree: 0,
    ...(cma.length ? { reserved: '1MiB' } : {}),
    cma: cma.map((size, i) => ({ name: `c${i}`, size })),
  };
  return bootKernel(
    { version, policies: { placement: 'kernel', pcp: 'off' }, machine },
    { now: 0 },
  );
}

/** Order-0 user pages faulted into one anon object, and freed by pfn. */
function userPages(k: Kernel) {
  const obj = k.rmap.create(ObjKind.ANON, 4096, 'anon');
  let next = 0;
  return {
    alloc: () => faultPage(k, obj, next++),
    free: (pfn: number) => releasePage(k, obj, obj.pages.indexOf(pfn)),
  };
}
const list = (k: Kernel, mt: MT, order: number) => [
  ...k.alloc.freeBlocks(k.alloc.zones[0]!, mt, order),
];

describe.each(['6.18', '6.4'] as const)('placement=kernel %s: list order', (version) => {
  it('boot frees to the tail, expand() and frees go to the head, a likely merge to the tail', () => {
    // 8 MiB: two order-10 blocks. memblock_free_all() → __free_pages_core() → FPI_TO_TAIL, in
    // pfn order: MOVABLE order 10 = [0, 1024].
    const k = kernelMachine(version, '8MiB');
    const u = userPages(k);
    expect(list(k, MT.MOVABLE, 10)).toEqual([0, 1024]);
    // __rmqueue_smallest() takes the head of the smallest non-empty order (10: pfn 0); expand()
    // puts each upper half at the head of its order: 512 (o9), 256, ..., 2 (o1), 1 (o0).
    expect(u.alloc()).toBe(0);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1]);
    expect(list(k, MT.MOVABLE, 1)).toEqual([2]);
    expect(list(k, MT.MOVABLE, 9)).toEqual([512]);
    expect(list(k, MT.MOVABLE, 10)).toEqual([1024]);
    // 1 (o0 head); 2 from o1, its half 3 to o0; 3; 4 from o2, halves 6 (o1) and 5 (o0); 5
    expect([u.alloc(), u.alloc(), u.alloc(), u.alloc(), u.alloc()]).toEqual([1, 2, 3, 4, 5]);
    expect(list(k, MT.MOVABLE, 0)).toEqual([]);
    expect(list(k, MT.MOVABLE, 1)).toEqual([6]);
    // __free_one_page(1): buddy 0 is allocated, so no merge; buddy_merge_likely(): is the
    // order-1 buddy of the pair {0,1}, block 2, a free order-1 block? No: head.
    u.free(1);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1]);
    // free 4: buddy 5 allocated; the pair {4,5}'s order-1 buddy is block 6, free: tail.
    u.free(4);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1, 4]);
    // free 3: buddy 2 allocated; the pair {2,3}'s order-1 buddy is block 0, allocated: head.
    u.free(3);
    expect(list(k, MT.MOVABLE, 0)).toEqual([3, 1, 4]);
    checkInvariants(k);
    // LIFO from the head: 3, 1, 4; then order 1's block 6 splits (7 to o0)
    expect([u.alloc(), u.alloc(), u.alloc(), u.alloc()]).toEqual([3, 1, 4, 6]);
    expect(list(k, MT.MOVABLE, 0)).toEqual([7]);
    checkInvariants(k);
  });

  it('CMA pageblocks are freed with __free_pages() at the head: the highest order-10 block first', () => {
    // 16 MiB with an 8 MiB CMA area at the top (pfn 2048..4095) and 1 MiB reserved.
    // init_cma_reserved_pageblock() frees pageblocks 2048, 2560, 3072, 3584 in turn (FPI_NONE):
    // 2560 merges with 2048 into an order-10 block, at the head (buddy_merge_likely() is false
    // from order 9 on); 3584 with 3072, at the head before it.
    const k = kernelMachine(version, '16MiB', ['8MiB']);
    const u = userPages(k);
    expect(list(k, MT.CMA, 10)).toEqual([3072, 2048]);
    // free CMA 2048 > free 3840 / 2: CMA first (§1.6), from the head block 3072
    expect(u.alloc()).toBe(3072);
    expect(u.alloc()).toBe(3073);
    checkInvariants(k);
  });

  it('isolation moves free blocks to the tail (move_freepages_block), lowest first', () => {
    // 8 MiB: take pfn 0 (blocks 1, 2, 4, ..., 512 at the heads); isolate pageblock 2 (pfn
    // 1024..1535), splitting the order-10 block 1024, and put it back: its free order-9 block
    // goes to the tail of MOVABLE order 9, then __putback_isolated_page() merges it with 1536
    // into order 10 (FPI_TO_TAIL).
    const k = kernelMachine(version, '8MiB');
    expect(userPages(k).alloc()).toBe(0);
    expect(k.alloc.isolatePageblock(2)).toBe(true);
    // 6.18 split_large_buddy(): 1024 freed to ISOLATE, then 1536 (its buddy is isolated: no
    // merge) at the head
    expect(list(k, MT.MOVABLE, 9)).toEqual([1536, 512]);
    expect(list(k, MT.ISOLATE, 9)).toEqual([1024]);
    k.alloc.unisolatePageblock(2);
    expect(list(k, MT.MOVABLE, 9)).toEqual([512]);
    expect(list(k, MT.MOVABLE, 10)).toEqual([1024]);
    checkInvariants(k);
  });
});

describe.each(['6.18', '6.4'] as const)('placement=kernel %s: claim or steal (§1.5)', (version) => {
  /**
   * 4 MiB (pageblocks 0 and 1) filled with order-0 kernel or user pages, pageblock 0 labelled
   * UNMOVABLE, then pfn 3 and pfns 32..63 freed: UNMOVABLE holds blocks of order 0 (3) and 5
   * (32), 33 free pages; MOVABLE holds none, so a user page must fall back. pcp=off: the
   * buddy's fallback itself, not a per-CPU refill of several pages.
   */
  function fragmented(placement: Policies['placement'], kernelPages: boolean) {
    const machine = { memory: '4MiB', dramBase: 0, minFree: 0 };
    const k = bootKernel({ version, policies: { placement, pcp: 'off' }, machine }, { now: 0 });
    const u = userPages(k);
    for (let i = 0; i < 1024; i++) {
      if (kernelPages) k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL);
      else u.alloc();
    }
    k.alloc.setPageblockMt(0, MT.UNMOVABLE);
    for (const p of [3, ...Array.from({ length: 32 }, (_, i) => 32 + i)]) {
      if (kernelPages) k.alloc.freePages(p, 0);
      else u.free(p);
    }
    expect(list(k, MT.UNMOVABLE, 5)).toEqual([32]);
    return { k, u };
  }

  it('a MOVABLE request steals the smallest block when it cannot claim (free + alike < 256)', () => {
    // kernel pages are not PageLRU: alike = 0, 33 < 256. 6.18 __rmqueue_claim() fails at order 5
    // and stops below order 4; __rmqueue_steal() takes the smallest block: 3. 6.4 steals from
    // the order-5 block's pageblock, and __rmqueue_smallest() takes its smallest block: 3.
    const { k, u } = fragmented('kernel', true);
    expect(u.alloc()).toBe(3);
    expect(k.alloc.pbMt[0]).toBe(MT.UNMOVABLE);
    checkInvariants(k);
    // the simplified rule (§1.5) steals the largest block instead
    expect(fragmented('lowest-pfn', true).u.alloc()).toBe(32);
  });

  it('claims the pageblock when free + movable pages reach half of it', () => {
    // 33 free + 479 anon (PageLRU) pages >= 256: the pageblock becomes MOVABLE, its free blocks
    // move to MOVABLE's tails and __rmqueue_smallest() takes the order-0 one
    const { k, u } = fragmented('kernel', false);
    expect(u.alloc()).toBe(3);
    expect(k.alloc.pbMt[0]).toBe(MT.MOVABLE);
    expect(list(k, MT.MOVABLE, 5)).toEqual([32]);
    checkInvariants(k);
    const simple = fragmented('lowest-pfn', false);
    expect(simple.u.alloc()).toBe(32);
    expect(simple.k.alloc.pbMt[0]).toBe(MT.UNMOVABLE);
  });
});
