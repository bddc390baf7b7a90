// The buddy allocator: zones, pageblocks, free lists per (order, migratetype), the CMA-first rule
// and the fallback table (spec §1.2–§1.7).
//
// Free lists are kept as sets, not linked lists, so that the default placement ("lowest PFN of the
// smallest sufficient order", §1.4) is exact and O(1)-ish: a bitmap of free-block heads per order,
// a count of free heads per (order, pageblock), and per zone a hierarchical bitmap of pageblocks per
// (migratetype, order) list.

import type { Rng } from '../../sim/rng.js';
import {
  MAX_PAGE_ORDER,
  MIGRATE_TYPES,
  MT,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
} from '../config.js';
import { ctz32, HierBitmap, testBit } from './bitmap.js';
import {
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_NORETRY,
  __GFP_RETRY_MAYFAIL,
  allocCma,
  gfpMigratetype,
} from './gfp.js';
import { PageArrays, PageKind } from './page.js';

/** fallbacks[] (§1.5); CMA, HIGHATOMIC and ISOLATE are never fallback sources. */
const FALLBACKS: readonly (readonly MT[])[] = [
  [MT.RECLAIMABLE, MT.MOVABLE], // UNMOVABLE
  [MT.RECLAIMABLE, MT.UNMOVABLE], // MOVABLE
  [MT.UNMOVABLE, MT.MOVABLE], // RECLAIMABLE
];

/** migratetype_is_mergeable(): only the PCP types merge with each other (§1.2). */
const isMergeable = (mt: number): boolean => mt < MT.HIGHATOMIC;

/** Adjust a list's nr_free and the zone's non-empty-order mask. */
function countBlocks(zone: Zone, mt: number, order: number, n: number): void {
  const i = mt * NR_PAGE_ORDERS + order;
  const now = zone.nrFree[i]! + n;
  zone.nrFree[i] = now;
  if (now === 0) zone.avail[mt]! &= ~(1 << order);
  else zone.avail[mt]! |= 1 << order;
}

export type Placement = 'lowest-pfn' | 'shuffled';

export class Zone {
  /** one set of pageblocks per (migratetype, order) free list */
  readonly lists: HierBitmap[] = [];
  /** free blocks on each (migratetype, order) list: free_area[order].nr_free per type */
  readonly nrFree = new Int32Array(MIGRATE_TYPES * NR_PAGE_ORDERS);
  /** per migratetype, a bit per order whose list is not empty */
  readonly avail = new Uint16Array(MIGRATE_TYPES);
  /** NR_FREE_PAGES and NR_FREE_CMA_PAGES: free pages outside isolated pageblocks (§1.6 item 3) */
  freePages = 0;
  freeCma = 0;
  /** pages managed by the buddy (MemTotal share) */
  managedPages = 0;

  constructor(
    readonly name: string,
    readonly startPfn: number,
    readonly endPfn: number,
    /** WMARK_MIN in pages (§1.7) */
    public minWatermark: number,
    nrPageblocks: number,
  ) {
    for (let i = 0; i < MIGRATE_TYPES * NR_PAGE_ORDERS; i++)
      this.lists.push(new HierBitmap(nrPageblocks));
  }

  contains(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.endPfn;
  }
}

export interface AllocStats {
  /** pages handed out and given back (vmstat pgalloc_* and pgfree) */
  pgalloc: number;
  pgfree: number;
  /** allocations that failed; the kernel's slow path would have run reclaim and compaction */
  allocFail: number;
  /** failures where the real kernel would invoke the OOM killer (§8.2) */
  oomWouldKill: number;
}

export class PageAlloc {
  readonly pages: PageArrays;
  /** base migratetype per pageblock; the isolate flag is separate, as in 6.18 (§1.2) */
  readonly pbMt: Uint8Array;
  readonly pbIsolated: Uint8Array;
  /** free pages per pageblock */
  readonly pbFree: Uint16Array;
  /** free-block heads per order, bit (pfn >> order) */
  private readonly heads: Uint32Array[] = [];
  /** free heads per (order, pageblock) */
  private readonly headCount: Uint16Array;
  readonly nrPageblocks: number;
  readonly zones: Zone[];
  readonly stats: AllocStats = { pgalloc: 0, pgfree: 0, allocFail: 0, oomWouldKill: 0 };

  constructor(
    readonly startPfn: number,
    readonly endPfn: number,
    /** first pfn of ZONE_MOVABLE, or endPfn when there is none (§1.3) */
    readonly movableStartPfn: number,
    minWatermark: number,
    public placement: Placement,
    private readonly rng: Rng,
    public cmaTaggedOnly: boolean,
  ) {
    if (startPfn % (1 << MAX_PAGE_ORDER) || endPfn % PAGEBLOCK_NR_PAGES) {
      throw new Error('memory must start 4 MiB aligned and end 2 MiB aligned');
    }
    this.pages = new PageArrays(endPfn);
    this.nrPageblocks = endPfn >> PAGEBLOCK_ORDER;
    this.pbMt = new Uint8Array(this.nrPageblocks).fill(MT.MOVABLE);
    this.pbIsolated = new Uint8Array(this.nrPageblocks);
    this.pbFree = new Uint16Array(this.nrPageblocks);
    this.headCount = new Uint16Array(NR_PAGE_ORDERS * this.nrPageblocks);
    for (let o = 0; o <= MAX_PAGE_ORDER; o++)
      this.heads.push(new Uint32Array(((endPfn >> o) + 31) >>> 5));
    this.zones = [new Zone('Normal', startPfn, movableStartPfn, minWatermark, this.nrPageblocks)];
    if (movableStartPfn < endPfn) {
      this.zones.push(new Zone('Movable', movableStartPfn, endPfn, 0, this.nrPageblocks));
    }
  }

  zoneOf(pfn: number): Zone {
    return pfn < this.movableStartPfn ? this.zones[0]! : this.zones[1]!;
  }

  /** get_pfnblock_migratetype(): ISOLATE when the isolate flag is set (§1.2). */
  effectiveMt(pfn: number): MT {
    const pb = pfn >> PAGEBLOCK_ORDER;
    return this.pbIsolated[pb] ? MT.ISOLATE : (this.pbMt[pb]! as MT);
  }

  isFreeHead(pfn: number, order: number): boolean {
    return testBit(this.heads[order]!, pfn >> order);
  }

  /** The free buddy block containing pfn as [head, order], or undefined (find_large_buddy). */
  freeBlockOf(pfn: number): [number, number] | undefined {
    if (this.pages.kind[pfn] !== PageKind.FREE) return undefined;
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
      const head = pfn & ~((1 << o) - 1);
      if (this.isFreeHead(head, o)) return [head, o];
    }
    return undefined; // a free page outside the buddy: a hole (never in this model)
  }

  // ---- free lists -------------------------------------------------------------------------

  private addToFreeList(zone: Zone, pfn: number, order: number, mt: number): void {
    const bit = pfn >> order;
    this.heads[order]![bit >>> 5]! |= 1 << (bit & 31);
    const pb = pfn >> PAGEBLOCK_ORDER;
    const hc = order * this.nrPageblocks + pb;
    if (this.headCount[hc]!++ === 0) zone.lists[mt * NR_PAGE_ORDERS + order]!.add(pb);
    countBlocks(zone, mt, order, 1);
    this.accountFree(zone, pfn, order, mt, 1);
  }

  private delFromFreeList(zone: Zone, pfn: number, order: number, mt: number): void {
    const bit = pfn >> order;
    this.heads[order]![bit >>> 5]! &= ~(1 << (bit & 31));
    const pb = pfn >> PAGEBLOCK_ORDER;
    const hc = order * this.nrPageblocks + pb;
    if (--this.headCount[hc]! === 0) zone.lists[mt * NR_PAGE_ORDERS + order]!.delete(pb);
    countBlocks(zone, mt, order, -1);
    this.accountFree(zone, pfn, order, mt, -1);
  }

  /** account_freepages(): isolated free pages count nowhere (§1.6 item 3). */
  private accountFree(zone: Zone, pfn: number, order: number, mt: number, sign: 1 | -1): void {
    const n = sign << order;
    const pb = pfn >> PAGEBLOCK_ORDER;
    if (order > PAGEBLOCK_ORDER) {
      this.pbFree[pb]! += n >> 1;
      this.pbFree[pb + 1]! += n >> 1;
    } else {
      this.pbFree[pb]! += n;
    }
    if (mt === MT.ISOLATE) return;
    zone.freePages += n;
    if (mt === MT.CMA) zone.freeCma += n;
  }

  /** Lowest (or, shuffled, a seeded random) pageblock on a list, then its lowest head. */
  private pickBlock(zone: Zone, order: number, mt: number): number {
    const list = zone.lists[mt * NR_PAGE_ORDERS + order]!;
    let pb: number;
    if (this.placement === 'shuffled') {
      pb = list.next(this.rng.int(0, this.nrPageblocks));
      if (pb < 0) pb = list.first();
    } else {
      pb = list.first();
    }
    if (order >= PAGEBLOCK_ORDER) return pb << PAGEBLOCK_ORDER;
    const heads = this.heads[order]!;
    const nbits = PAGEBLOCK_NR_PAGES >> order;
    const first = pb * nbits;
    if (nbits < 32) {
      const word = (heads[first >>> 5]! >>> (first & 31)) & ((1 << nbits) - 1);
      return (first + ctz32(word)) << order;
    }
    for (let w = first >>> 5; ; w++) {
      const word = heads[w]!;
      if (word !== 0) return ((w << 5) + ctz32(word)) << order;
    }
  }

  /** __rmqueue_smallest() followed by expand() (§1.4). */
  private rmqueueSmallest(zone: Zone, order: number, mt: number): number {
    const m = zone.avail[mt]! >>> order;
    if (m === 0) return -1;
    let high = order + ctz32(m);
    const pfn = this.pickBlock(zone, high, mt);
    this.delFromFreeList(zone, pfn, high, mt);
    while (high > order) {
      high--;
      this.addToFreeList(zone, pfn + (1 << high), high, mt);
    }
    return pfn;
  }

  /** Claim a fallback block (§1.5, simplified as the spec allows): the largest block first. */
  private rmqueueFallback(zone: Zone, order: number, mt: MT): number {
    const fallbacks = FALLBACKS[mt];
    if (!fallbacks) return -1;
    for (const fb of fallbacks) {
      for (let o = MAX_PAGE_ORDER; o >= order; o--) {
        if (!(zone.avail[fb]! & (1 << o))) continue;
        const pfn = this.pickBlock(zone, o, fb);
        const pb = pfn >> PAGEBLOCK_ORDER;
        if (o >= PAGEBLOCK_ORDER) {
          for (let b = pb; b < pb + (1 << (o - PAGEBLOCK_ORDER)); b++) this.setPageblockMt(b, mt);
        } else if (this.pbFree[pb]! >= PAGEBLOCK_NR_PAGES / 2) {
          this.setPageblockMt(pb, mt);
        } else {
          // steal a single block; the pieces stay on the fallback type's lists
          this.delFromFreeList(zone, pfn, o, fb);
          for (let high = o; high > order; ) {
            high--;
            this.addToFreeList(zone, pfn + (1 << high), high, fb);
          }
          return pfn;
        }
        return this.rmqueueSmallest(zone, order, mt);
      }
    }
    return -1;
  }

  /** __rmqueue() of 6.18 (§1.6 item 2). */
  private rmqueue(zone: Zone, order: number, mt: MT, cma: boolean): number {
    let pfn = -1;
    // "CMA first": NR_FREE_CMA_PAGES > NR_FREE_PAGES / 2 (§1.6 item 3)
    if (cma && zone.freeCma > Math.floor(zone.freePages / 2))
      pfn = this.rmqueueSmallest(zone, order, MT.CMA);
    if (pfn < 0) pfn = this.rmqueueSmallest(zone, order, mt);
    if (pfn < 0 && cma) pfn = this.rmqueueSmallest(zone, order, MT.CMA);
    if (pfn < 0) pfn = this.rmqueueFallback(zone, order, mt);
    return pfn;
  }

  /** __zone_watermark_ok() against WMARK_MIN; free CMA is unusable without ALLOC_CMA (§1.7). */
  private watermarkOk(zone: Zone, order: number, cma: boolean): boolean {
    const free = zone.freePages - (cma ? 0 : zone.freeCma) - ((1 << order) - 1);
    return free > zone.minWatermark;
  }

  /**
   * alloc_pages(): returns the first pfn of a 2^order block labelled `kind`, or -1.
   * ZONE_MOVABLE only serves __GFP_MOVABLE|__GFP_HIGHMEM (§1.3).
   */
  allocPages(order: number, gfp: number, kind: PageKind): number {
    if (order > MAX_PAGE_ORDER) {
      this.stats.allocFail++;
      return -1; // WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER)
    }
    const mt = gfpMigratetype(gfp);
    const cma = allocCma(gfp, this.cmaTaggedOnly);
    const movableZone = (gfp & (__GFP_MOVABLE | __GFP_HIGHMEM)) === (__GFP_MOVABLE | __GFP_HIGHMEM);
    for (let z = movableZone ? this.zones.length - 1 : 0; z >= 0; z--) {
      const zone = this.zones[z]!;
      if (!this.watermarkOk(zone, order, cma)) continue;
      const pfn = this.rmqueue(zone, order, mt, cma);
      if (pfn >= 0) {
        const { pages } = this;
        this.stats.pgalloc += 1 << order;
        if (order === 0) {
          pages.kind[pfn] = kind;
          pages.flags[pfn] = 0;
        } else {
          pages.kind.fill(kind, pfn, pfn + (1 << order));
          pages.flags.fill(0, pfn, pfn + (1 << order));
        }
        return pfn;
      }
    }
    this.stats.allocFail++;
    // costly orders and __GFP_RETRY_MAYFAIL/__GFP_NORETRY never OOM-kill (§1.7, §8.2)
    if (order <= 3 && !(gfp & (__GFP_RETRY_MAYFAIL | __GFP_NORETRY))) this.stats.oomWouldKill++;
    return -1;
  }

  /**
   * alloc_pages_exact(): a 2^order block trimmed to `nrPages`, the tail freed (§5.1:
   * TEE_IOC_SHM_ALLOC). More than 2^MAX_PAGE_ORDER pages always fails.
   */
  allocPagesExact(nrPages: number, gfp: number, kind: PageKind): number {
    const order = Math.max(0, Math.ceil(Math.log2(nrPages)));
    const pfn = this.allocPages(order, gfp, kind);
    if (pfn >= 0) this.freeRange(pfn + nrPages, pfn + (1 << order));
    return pfn;
  }

  /** __free_one_page(): merge with free buddies, never across non-mergeable types (§1.2, §1.4). */
  freeOneBlock(pfn: number, order: number): void {
    const zone = this.zoneOf(pfn);
    const mt = this.effectiveMt(pfn);
    while (order < MAX_PAGE_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (!zone.contains(buddy) || !this.isFreeHead(buddy, order)) break;
      let buddyMt: number = mt;
      if (order >= PAGEBLOCK_ORDER) {
        buddyMt = this.effectiveMt(buddy);
        if (buddyMt !== mt && (!isMergeable(mt) || !isMergeable(buddyMt))) break;
      }
      this.delFromFreeList(zone, buddy, order, buddyMt);
      if (buddyMt !== mt) this.setPageblockMt(buddy >> PAGEBLOCK_ORDER, mt); // change_pageblock_range
      pfn &= ~(1 << order);
      order++;
    }
    this.addToFreeList(zone, pfn, order, mt);
  }

  /** Free 2^order pages at pfn: clear their state and give them back to the buddy. */
  freePages(pfn: number, order: number): void {
    this.stats.pgfree += 1 << order;
    if (order === 0) this.pages.kind[pfn] = PageKind.FREE;
    else this.pages.kind.fill(PageKind.FREE, pfn, pfn + (1 << order));
    this.freeOneBlock(pfn, order);
  }

  /** Free an arbitrary page range as maximal aligned blocks (free_contig_range). */
  freeRange(start: number, end: number): void {
    this.stats.pgfree += end - start;
    this.pages.kind.fill(PageKind.FREE, start, end);
    this.freeRangeToBuddy(start, end);
  }

  private freeRangeToBuddy(start: number, end: number): void {
    let p = start;
    while (p < end) {
      let o = p === 0 ? MAX_PAGE_ORDER : Math.min(ctz32(p), MAX_PAGE_ORDER);
      while (p + (1 << o) > end) o--;
      this.freeOneBlock(p, o);
      p += 1 << o;
    }
  }

  /** Hand the free blocks of [start, end) to the caller; return the rest of each block (§2.4). */
  takeFreeRange(start: number, end: number): void {
    let p = start;
    while (p < end) {
      const blk = this.freeBlockOf(p);
      if (!blk) throw new Error(`pfn ${p} is not free`);
      const [head, order] = blk;
      const zone = this.zoneOf(head);
      this.delFromFreeList(zone, head, order, this.effectiveMt(head));
      const blockEnd = head + (1 << order);
      if (head < start) this.freeRangeToBuddy(head, start);
      if (blockEnd > end) this.freeRangeToBuddy(end, blockEnd);
      p = blockEnd;
    }
  }

  // ---- pageblocks ---------------------------------------------------------------------------

  /** Move a pageblock's free blocks from one list type to another and fix the counters. */
  private moveFreeLists(pb: number, from: number, to: number): void {
    const zone = this.zoneOf(pb << PAGEBLOCK_ORDER);
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
      const c = this.headCount[o * this.nrPageblocks + pb]!;
      if (c === 0) continue;
      zone.lists[from * NR_PAGE_ORDERS + o]!.delete(pb);
      zone.lists[to * NR_PAGE_ORDERS + o]!.add(pb);
      countBlocks(zone, from, o, -c);
      countBlocks(zone, to, o, c);
    }
    const n = this.freeHeadedPages(pb);
    if (from !== MT.ISOLATE) zone.freePages -= n;
    if (from === MT.CMA) zone.freeCma -= n;
    if (to !== MT.ISOLATE) zone.freePages += n;
    if (to === MT.CMA) zone.freeCma += n;
  }

  /** Free pages in blocks whose head lies in pageblock pb. */
  private freeHeadedPages(pb: number): number {
    let n = 0;
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) n += this.headCount[o * this.nrPageblocks + pb]! << o;
    return n;
  }

  /** set_pageblock_migratetype() for a non-isolated block (claiming, CMA activation). */
  setPageblockMt(pb: number, mt: MT): void {
    const old = this.pbMt[pb]!;
    if (old === mt) return;
    this.pbMt[pb] = mt;
    if (!this.pbIsolated[pb]) this.moveFreeLists(pb, old, mt);
  }

  /** Split a free order-MAX block that spans pb and its neighbour (isolate_single_pageblock). */
  private splitStraddlingBlock(pb: number): void {
    const head = (pb & ~1) << PAGEBLOCK_ORDER;
    if (!this.isFreeHead(head, MAX_PAGE_ORDER)) return;
    const zone = this.zoneOf(head);
    const mt = this.effectiveMt(head);
    this.delFromFreeList(zone, head, MAX_PAGE_ORDER, mt);
    this.addToFreeList(zone, head, PAGEBLOCK_ORDER, mt);
    this.addToFreeList(zone, head + PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER, mt);
  }

  /** set_migratetype_isolate(): -EBUSY if already isolated (§2.4). */
  isolatePageblock(pb: number): boolean {
    if (this.pbIsolated[pb]) return false;
    this.splitStraddlingBlock(pb);
    this.pbIsolated[pb] = 1;
    this.moveFreeLists(pb, this.pbMt[pb]!, MT.ISOLATE);
    return true;
  }

  /** unset_migratetype_isolate(): back to the base type, re-merging whole free pageblocks. */
  unisolatePageblock(pb: number): void {
    this.pbIsolated[pb] = 0;
    this.moveFreeLists(pb, MT.ISOLATE, this.pbMt[pb]!);
    const head = pb << PAGEBLOCK_ORDER;
    if (this.isFreeHead(head, PAGEBLOCK_ORDER)) {
      this.delFromFreeList(this.zoneOf(head), head, PAGEBLOCK_ORDER, this.pbMt[pb]!);
      this.freeOneBlock(head, PAGEBLOCK_ORDER);
    }
  }

  /** Give [start, end) to the buddy at boot (memblock_free_all / init_cma_reserved_pageblock). */
  bootFree(start: number, end: number): void {
    const zone = this.zoneOf(start);
    zone.managedPages += end - start;
    this.freeRangeToBuddy(start, end);
  }

  /** Free counters summed over zones: [nr_free_pages, nr_free_cma]. */
  freeCounts(): [number, number] {
    let free = 0;
    let cma = 0;
    for (const z of this.zones) {
      free += z.freePages;
      cma += z.freeCma;
    }
    return [free, cma];
  }
}
