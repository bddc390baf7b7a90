// The buddy allocator: zones, pageblocks, free lists per (order, migratetype), the CMA-first rule
// and the fallback table (kernel-model.md §1.2–§1.7).
//
// placement=kernel keeps the kernel's own lists (free_list.ts): doubly linked, taken at the head,
// added at the head or the tail where mm/page_alloc.c does, each head marked with its order as
// PageBuddy() and buddy_order() mark it. The other placements keep a bitmap of free-block heads
// per order, and each list as a set, so that "lowest PFN of the smallest sufficient order" (§1.4)
// is exact and cheap: per zone a hierarchical bitmap per (migratetype, order) list. A small order's set holds the words of the heads bitmap that have
// heads on it (one such word lies in one pageblock, so it is on one list); a large order's set
// holds the heads themselves.

import type { Rng } from '../../sim/rng.js';
import {
  type KernelVersion,
  MAX_PAGE_ORDER,
  MIGRATE_TYPES,
  MT,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
} from '../config.js';
import { features } from '../features.js';
import { countBits, ctz32, findNextBit, HierBitmap, popcount32, testBit } from './bitmap.js';
import { FreeLists, pageLru } from './free_list.js';
import {
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_NORETRY,
  __GFP_RETRY_MAYFAIL,
  allocCma,
  gfpMigratetype,
} from './gfp.js';
import { PageArrays, PageKind } from './page.js';
import { MIGRATE_PCPTYPES, PAGE_ALLOC_COSTLY_ORDER, type PcpBuddy, PerCpuPages } from './pcp.js';

/** fallbacks[] (§1.5); CMA, HIGHATOMIC and ISOLATE are never fallback sources. */
const FALLBACKS: readonly (readonly MT[])[] = [
  [MT.RECLAIMABLE, MT.MOVABLE], // UNMOVABLE
  [MT.RECLAIMABLE, MT.UNMOVABLE], // MOVABLE
  [MT.UNMOVABLE, MT.MOVABLE], // RECLAIMABLE
];

/** Orders below this list words of heads: 32 heads of these orders lie in one pageblock. */
const WORD_ORDERS = PAGEBLOCK_ORDER - 4;

/** The list element of the head at bit (pfn >> order): its heads word, or the bit itself. */
const listElem = (bit: number, order: number): number => (order < WORD_ORDERS ? bit >>> 5 : bit);

/** The first heads bit of `order` at or after pageblock pb's start: pb's heads are [pb, pb + 1). */
const headBit = (pb: number, order: number): number =>
  ((pb << PAGEBLOCK_ORDER) + (1 << order) - 1) >> order;

/** migratetype_is_mergeable(): only the PCP types merge with each other (§1.2). */
const isMergeable = (mt: number): boolean => mt < MT.HIGHATOMIC;

export type Placement = 'lowest-pfn' | 'shuffled' | 'kernel';

/** Free lists per zone: the index of list (mt, order) is listBase + mt * NR_PAGE_ORDERS + order. */
const LISTS_PER_ZONE = MIGRATE_TYPES * NR_PAGE_ORDERS;

export class Zone {
  /** lowest-pfn and shuffled: one set per (migratetype, order) list: words of heads, or heads */
  readonly lists: HierBitmap[] = [];
  /** placement=kernel: this zone's first list in PageAlloc's FreeLists */
  readonly listBase: number;
  /** per migratetype, a bit per order whose list is not empty */
  readonly avail = new Uint16Array(MIGRATE_TYPES);
  /** NR_FREE_PAGES and NR_FREE_CMA_PAGES: free pages outside isolated pageblocks (§1.6 item 3) */
  freePages = 0;
  freeCma = 0;
  /** pages managed by the buddy (MemTotal share) */
  managedPages = 0;
  /** WMARK_MIN, WMARK_LOW and WMARK_HIGH in pages (§1.7), set once the zone's managed pages are
   * known (Kernel: __setup_per_zone_wmarks()) */
  minWatermark = 0;
  lowWatermark = 0;
  highWatermark = 0;
  /** ZONE_BELOW_HIGH of zone->flags (6.7+, features.ts pcpBelowHigh): an allocation found the
   * zone below WMARK_HIGH; a bulk free of a per-CPU list clears it once the zone is above (§1.4) */
  belowHigh = false;

  constructor(
    readonly name: string,
    readonly startPfn: number,
    readonly endPfn: number,
    /** the end of memory: lists are indexed by absolute pfn */
    memEndPfn: number,
    index: number,
    /** the sets are only kept when the placement is not the kernel's */
    sets: boolean,
  ) {
    this.listBase = index * LISTS_PER_ZONE;
    if (!sets) return;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++)
      for (let o = 0; o <= MAX_PAGE_ORDER; o++)
        this.lists.push(new HierBitmap(listElem((memEndPfn >> o) - 1, o) + 1)); // up to the last head
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

export class PageAlloc implements PcpBuddy {
  readonly pages: PageArrays;
  /** base migratetype per pageblock; the isolate flag is separate, as in 6.18 (§1.2) */
  readonly pbMt: Uint8Array;
  readonly pbIsolated: Uint8Array;
  /** lowest-pfn and shuffled: free-block heads per order, bit (pfn >> order) */
  private readonly heads: Uint32Array[] = [];
  /** placement=kernel: the kernel's linked free lists, else null */
  private readonly fl: FreeLists | null;
  readonly nrPageblocks: number;
  readonly zones: Zone[];
  readonly stats: AllocStats = { pgalloc: 0, pgfree: 0, allocFail: 0, oomWouldKill: 0 };
  /** policy pcp=on: the per-CPU page lists, else null */
  readonly pcp: PerCpuPages | null;
  /** the CPU the current task runs on (Kernel sets it with the current pid) */
  cpu = 0;
  /** 6.7+ ZONE_BELOW_HIGH (features.ts) */
  private readonly belowHighFlag: boolean;

  constructor(
    readonly startPfn: number,
    readonly endPfn: number,
    /** first pfn of ZONE_MOVABLE, or endPfn when there is none (§1.3) */
    readonly movableStartPfn: number,
    readonly placement: Placement,
    private readonly rng: Rng,
    public cmaTaggedOnly: boolean,
    /** the claim/steal rule of placement=kernel differs (§1.5) */
    private readonly version: KernelVersion,
    /** per-CPU page lists on so many CPUs, or 0 for none (policy pcp=off) */
    cpus = 0,
  ) {
    if (startPfn % (1 << MAX_PAGE_ORDER) || endPfn % PAGEBLOCK_NR_PAGES) {
      throw new Error('memory must start 4 MiB aligned and end 2 MiB aligned');
    }
    this.pages = new PageArrays(endPfn);
    this.nrPageblocks = endPfn >> PAGEBLOCK_ORDER;
    this.pbMt = new Uint8Array(this.nrPageblocks).fill(MT.MOVABLE);
    this.pbIsolated = new Uint8Array(this.nrPageblocks);
    const sets = placement !== 'kernel';
    for (let o = 0; sets && o <= MAX_PAGE_ORDER; o++)
      this.heads.push(new Uint32Array(((endPfn >> o) + 31) >>> 5));
    this.zones = [new Zone('Normal', startPfn, movableStartPfn, endPfn, 0, sets)];
    if (movableStartPfn < endPfn) {
      this.zones.push(new Zone('Movable', movableStartPfn, endPfn, endPfn, 1, sets));
    }
    const lru = sets && cpus === 0 ? null : pageLru(endPfn);
    this.fl = lru && !sets ? new FreeLists(lru, this.zones.length * LISTS_PER_ZONE) : null;
    this.pcp = lru && cpus > 0 ? new PerCpuPages(lru, this.zones.length, cpus, version) : null;
    this.belowHighFlag = features(version).pcpBelowHigh;
  }

  /** placement=kernel: the linked free lists (list index: Zone.listBase), else null */
  get freeLists(): FreeLists | null {
    return this.fl;
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
    const { fl } = this;
    return fl !== null ? fl.isHead(pfn, order) : testBit(this.heads[order]!, pfn >> order);
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

  /** The heads on a (migratetype, order) free list: head first (kernel), else lowest first. */
  *freeBlocks(zone: Zone, mt: number, order: number): Generator<number> {
    const { fl } = this;
    if (fl !== null) {
      for (let p = fl.head(zone.listBase + mt * NR_PAGE_ORDERS + order); p >= 0; p = fl.after(p))
        yield p;
      return;
    }
    const list = zone.lists[mt * NR_PAGE_ORDERS + order]!;
    const heads = this.heads[order]!;
    for (let e = list.first(); e >= 0; e = list.next(e + 1)) {
      if (order >= WORD_ORDERS) yield e << order;
      else for (let w = heads[e]!; w !== 0; w &= w - 1) yield ((e << 5) + ctz32(w)) << order;
    }
  }

  /** Free pages in pageblock pb, counted from the heads (the claim rule of §1.5). */
  pbFreePages(pb: number): number {
    // an order-MAX block covers its own pageblock and the next
    if (this.isFreeHead((pb & ~1) << PAGEBLOCK_ORDER, MAX_PAGE_ORDER)) return PAGEBLOCK_NR_PAGES;
    let n = 0;
    const { fl } = this;
    if (fl !== null) {
      const end = (pb + 1) << PAGEBLOCK_ORDER;
      for (let p = this.nextBuddy(pb << PAGEBLOCK_ORDER, end); p < end; ) {
        const size = 1 << fl.orderOf(p);
        n += size;
        p = this.nextBuddy(p + size, end);
      }
      return n;
    }
    for (let o = 0; o <= PAGEBLOCK_ORDER; o++) {
      n += countBits(this.heads[o]!, headBit(pb, o), headBit(pb + 1, o)) << o;
    }
    return n;
  }

  /**
   * placement=kernel: the first free block's head in [pfn, end), or end: the pfn walk of
   * __move_freepages_block() (PageBuddy(), else the next pfn).
   */
  private nextBuddy(pfn: number, end: number): number {
    const fl = this.fl!;
    while (pfn < end && fl.orderOf(pfn) < 0) pfn++;
    return pfn;
  }

  // ---- free lists -------------------------------------------------------------------------

  /**
   * Put a free block on its list, at the tail or the head (placement=kernel; the sets have no
   * order); the free-page counters are the caller's (accountFree).
   */
  private linkHead(zone: Zone, pfn: number, order: number, mt: number, tail: boolean): void {
    const { fl } = this;
    if (fl !== null) {
      if (fl.add(zone.listBase + mt * NR_PAGE_ORDERS + order, pfn, order, tail))
        zone.avail[mt]! |= 1 << order;
      return;
    }
    const bit = pfn >> order;
    const w = bit >>> 5;
    const heads = this.heads[order]!;
    const was = heads[w]!;
    heads[w] = was | (1 << (bit & 31));
    if (order < WORD_ORDERS && was !== 0) return; // the word is on the list already
    if (zone.lists[mt * NR_PAGE_ORDERS + order]!.add(listElem(bit, order)))
      zone.avail[mt]! |= 1 << order;
  }

  /** Take a free block off its list; the free-page counters are the caller's (accountFree). */
  private unlinkHead(zone: Zone, pfn: number, order: number, mt: number): void {
    const { fl } = this;
    if (fl !== null) {
      if (fl.del(zone.listBase + mt * NR_PAGE_ORDERS + order, pfn))
        zone.avail[mt]! &= ~(1 << order);
      return;
    }
    const bit = pfn >> order;
    const w = bit >>> 5;
    const heads = this.heads[order]!;
    const now = heads[w]! & ~(1 << (bit & 31));
    heads[w] = now;
    if (order < WORD_ORDERS && now !== 0) return; // the word keeps other heads
    if (zone.lists[mt * NR_PAGE_ORDERS + order]!.delete(listElem(bit, order)))
      zone.avail[mt]! &= ~(1 << order);
  }

  /** add_to_free_list(): at the head. */
  private addToFreeList(zone: Zone, pfn: number, order: number, mt: number): void {
    this.linkHead(zone, pfn, order, mt, false);
    this.accountFree(zone, order, mt, 1);
  }

  private delFromFreeList(zone: Zone, pfn: number, order: number, mt: number): void {
    this.unlinkHead(zone, pfn, order, mt);
    this.accountFree(zone, order, mt, -1);
  }

  /** account_freepages(): isolated free pages count nowhere (§1.6 item 3). */
  private accountFree(zone: Zone, order: number, mt: number, sign: 1 | -1): void {
    if (mt === MT.ISOLATE) return;
    const n = sign << order;
    zone.freePages += n;
    if (mt === MT.CMA) zone.freeCma += n;
  }

  /**
   * The block an allocation takes from a list: its head (kernel: get_page_from_free_area), the
   * lowest block, or (shuffled) the lowest block from a seeded random pageblock on.
   */
  private pickBlock(zone: Zone, order: number, mt: number): number {
    const { fl } = this;
    if (fl !== null) return fl.head(zone.listBase + mt * NR_PAGE_ORDERS + order);
    const list = zone.lists[mt * NR_PAGE_ORDERS + order]!;
    const e = this.placement === 'shuffled' ? this.shuffledElem(list, order) : list.first();
    return order < WORD_ORDERS ? ((e << 5) + ctz32(this.heads[order]![e]!)) << order : e << order;
  }

  private shuffledElem(list: HierBitmap, order: number): number {
    const e = list.next(listElem(headBit(this.rng.int(0, this.nrPageblocks), order), order));
    return e < 0 ? list.first() : e;
  }

  /** __rmqueue_smallest() (§1.4). */
  private rmqueueSmallest(zone: Zone, order: number, mt: number): number {
    const m = zone.avail[mt]! >>> order;
    if (m === 0) return -1;
    const high = order + ctz32(m);
    return this.takeBlock(zone, this.pickBlock(zone, high, mt), high, order, mt);
  }

  /**
   * Take the free block at pfn of order `high` off list mt and expand() it: the upper halves go
   * back to the same list, 2^order pages at pfn are handed out (§1.4).
   */
  private takeBlock(zone: Zone, pfn: number, high: number, order: number, mt: number): number {
    this.unlinkHead(zone, pfn, high, mt);
    if (high > order) this.expand(zone, pfn, high, order, mt);
    this.accountFree(zone, order, mt, -1);
    return pfn;
  }

  /** expand(): the upper halves of a split block go to the head of the same list (§1.4). */
  private expand(zone: Zone, pfn: number, high: number, order: number, mt: number): void {
    while (high > order) {
      high--;
      this.linkHead(zone, pfn + (1 << high), high, mt, false);
    }
  }

  /** Take a block of another type (§1.5): the kernel's rule or the simplified one. */
  private rmqueueFallback(zone: Zone, order: number, mt: MT): number {
    const fallbacks = FALLBACKS[mt];
    if (!fallbacks) return -1;
    return this.fl !== null
      ? this.rmqueueClaim(zone, order, mt, fallbacks)
      : this.rmqueueFallbackSimple(zone, order, mt, fallbacks);
  }

  /** The simplified rule (§1.5): the fallback types in table order, the largest block first. */
  private rmqueueFallbackSimple(
    zone: Zone,
    order: number,
    mt: MT,
    fallbacks: readonly MT[],
  ): number {
    for (const fb of fallbacks) {
      for (let o = MAX_PAGE_ORDER; o >= order; o--) {
        if (!(zone.avail[fb]! & (1 << o))) continue;
        const pfn = this.pickBlock(zone, o, fb);
        const pb = pfn >> PAGEBLOCK_ORDER;
        if (o >= PAGEBLOCK_ORDER) {
          for (let b = pb; b < pb + (1 << (o - PAGEBLOCK_ORDER)); b++) this.setPageblockMt(b, mt);
        } else if (this.pbFreePages(pb) >= PAGEBLOCK_NR_PAGES / 2) {
          this.setPageblockMt(pb, mt);
        } else {
          // steal a single block; the pieces stay on the fallback type's lists
          return this.takeBlock(zone, pfn, o, order, fb);
        }
        return this.rmqueueSmallest(zone, order, mt);
      }
    }
    return -1;
  }

  /**
   * 6.18 __rmqueue_claim(): orders from MAX_PAGE_ORDER down, per order the first fallback type
   * with a block (find_suitable_fallback); claim that block's pageblock when
   * should_try_claim_block() and try_to_claim_block() allow, else try the next lower order; then
   * __rmqueue_steal(). 6.4 __rmqueue_fallback() tries one block: the largest, or for a MOVABLE
   * request that cannot claim at that order, the smallest (find_smallest).
   */
  private rmqueueClaim(zone: Zone, order: number, mt: MT, fallbacks: readonly MT[]): number {
    for (let o = MAX_PAGE_ORDER; o >= order; o--) {
      const fb = this.suitableFallback(zone, o, fallbacks);
      if (fb < 0) continue;
      // should_try_claim_block() (6.18) / can_steal_fallback() (6.4), pageblock_order / 2 = 4
      if (o < PAGEBLOCK_ORDER >> 1 && mt === MT.MOVABLE) break;
      const pfn = this.pickBlock(zone, o, fb);
      const got = this.tryClaimBlock(zone, pfn, o, order, mt, fb);
      if (got >= 0) return got;
      if (features(this.version).rmqueueClaim) continue;
      // 6.4 steal_suitable_fallback() moved the block's free pages to mt's lists without
      // relabelling it; __rmqueue_smallest(mt) then takes the first of its smallest blocks
      return this.takeSmallestInPageblock(zone, pfn >> PAGEBLOCK_ORDER, order, fb);
    }
    return this.rmqueueSteal(zone, order, fallbacks);
  }

  /** find_suitable_fallback(): the first type in the table with a block of this order, or -1. */
  private suitableFallback(zone: Zone, order: number, fallbacks: readonly MT[]): number {
    for (const fb of fallbacks) if (zone.avail[fb]! & (1 << order)) return fb;
    return -1;
  }

  /**
   * try_to_claim_block() (6.18; steal_suitable_fallback() in 6.4): a block of pageblock order or
   * more is claimed whole (change_pageblock_range); a smaller one's pageblock when free + alike
   * pages are at least half of it. Returns the allocated pfn, or -1 when not claimed.
   */
  private tryClaimBlock(
    zone: Zone,
    pfn: number,
    high: number,
    order: number,
    mt: MT,
    fb: number,
  ): number {
    const pb = pfn >> PAGEBLOCK_ORDER;
    if (high >= PAGEBLOCK_ORDER) {
      for (let b = pb; b < pb + (1 << (high - PAGEBLOCK_ORDER)); b++) this.setPageblockMt(b, mt);
      return this.rmqueueSmallest(zone, order, mt);
    }
    const free = this.pbFreePages(pb);
    const movable = this.pbMovablePages(pb);
    // alike: the block's movable pages for a MOVABLE request; for the others its non-free
    // non-movable pages when the block is MOVABLE, else none
    const alike =
      mt === MT.MOVABLE ? movable : fb === MT.MOVABLE ? PAGEBLOCK_NR_PAGES - free - movable : 0;
    if (free + alike < PAGEBLOCK_NR_PAGES >> 1) return -1;
    this.setPageblockMt(pb, mt); // __move_freepages_block() + set_pageblock_migratetype()
    return this.rmqueueSmallest(zone, order, mt);
  }

  /** Pages of pageblock pb the claim rule counts as movable: PageLRU (anon and file pages). */
  private pbMovablePages(pb: number): number {
    const { kind } = this.pages;
    let n = 0;
    for (let p = pb << PAGEBLOCK_ORDER; p < (pb + 1) << PAGEBLOCK_ORDER; p++) {
      const k = kind[p];
      if (k === PageKind.ANON || k === PageKind.FILE) n++;
    }
    return n;
  }

  /**
   * placement=kernel: the first (lowest) of pageblock pb's smallest free blocks of at least
   * `order`, taken.
   */
  private takeSmallestInPageblock(zone: Zone, pb: number, order: number, fb: number): number {
    const fl = this.fl!;
    const end = (pb + 1) << PAGEBLOCK_ORDER;
    let best = -1;
    for (let p = this.nextBuddy(pb << PAGEBLOCK_ORDER, end); p < end; ) {
      const o = fl.orderOf(p);
      if (o >= order && (best < 0 || o < fl.orderOf(best))) best = p;
      p = this.nextBuddy(p + (1 << o), end);
    }
    if (best < 0) throw new Error(`pageblock ${pb} has no free block of order ${order} or more`);
    return this.takeBlock(zone, best, fl.orderOf(best), order, fb);
  }

  /** __rmqueue_steal(): the head block of the smallest order, pieces stay on its type's lists. */
  private rmqueueSteal(zone: Zone, order: number, fallbacks: readonly MT[]): number {
    for (let o = order; o <= MAX_PAGE_ORDER; o++) {
      const fb = this.suitableFallback(zone, o, fallbacks);
      if (fb >= 0) return this.takeBlock(zone, this.pickBlock(zone, o, fb), o, order, fb);
    }
    return -1;
  }

  /** __rmqueue() of 6.18 (§1.6 item 2). */
  private rmqueue(zone: Zone, order: number, mt: MT, cma: boolean): number {
    // "CMA first": NR_FREE_CMA_PAGES > NR_FREE_PAGES / 2 (§1.6 item 3); then the other one
    const cmaFirst = cma && zone.freeCma > zone.freePages >> 1;
    let pfn = this.rmqueueSmallest(zone, order, cmaFirst ? MT.CMA : mt);
    if (pfn < 0 && cma) pfn = this.rmqueueSmallest(zone, order, cmaFirst ? mt : MT.CMA);
    return pfn < 0 ? this.rmqueueFallback(zone, order, mt) : pfn;
  }

  /**
   * __zone_watermark_ok() against `mark`; free CMA is unusable without ALLOC_CMA (§1.7). Like the
   * rest of the model it has no lowmem_reserve (a request that may use ZONE_MOVABLE would need
   * the normal zone above mark + lowmem_reserve[ZONE_MOVABLE]), no highatomic reserve and no
   * free-block test of high orders.
   */
  private watermarkOk(zone: Zone, order: number, cma: boolean, mark: number): boolean {
    const free = zone.freePages - (cma ? 0 : zone.freeCma) - ((1 << order) - 1);
    return free > mark;
  }

  /**
   * alloc_pages(): returns the first pfn of a 2^order block labelled `kind`, or -1.
   * ZONE_MOVABLE only serves __GFP_MOVABLE|__GFP_HIGHMEM (§1.3).
   */
  allocPages(order: number, gfp: number, kind: PageKind): number {
    if (order > MAX_PAGE_ORDER) return this.allocFailed(order, gfp); // WARN_ON_ONCE_GFP
    const mt = gfpMigratetype(gfp);
    const cma = allocCma(mt, gfp, this.cmaTaggedOnly);
    const movableZone = (gfp & (__GFP_MOVABLE | __GFP_HIGHMEM)) === (__GFP_MOVABLE | __GFP_HIGHMEM);
    for (let z = movableZone ? this.zones.length - 1 : 0; z >= 0; z--) {
      const zone = this.zones[z]!;
      // get_page_from_freelist(), 6.7+: a zone below WMARK_HIGH gets ZONE_BELOW_HIGH (§1.4); then
      // the zone's own mark (the model's WMARK_MIN, which a zone above WMARK_HIGH passes too)
      if (
        this.belowHighFlag &&
        !zone.belowHigh &&
        !this.watermarkOk(zone, order, cma, zone.highWatermark)
      )
        zone.belowHigh = true;
      if (!this.watermarkOk(zone, order, cma, zone.minWatermark)) continue;
      // rmqueue(): the per-CPU list first (rmqueue_pcplist), else the buddy (rmqueue_buddy). The
      // MOVABLE list holds CMA pages: a MOVABLE request without ALLOC_CMA (cmaEligibility
      // tagged-only) skips it, as 6.4's rmqueue() does (8510e69c8efe, 5.9; f945116e4e19 dropped
      // it in 6.6, where upstream has no such request); kept for 6.18 (Android: a CMA list)
      const { pcp } = this;
      let pfn =
        pcp !== null && order <= PAGE_ALLOC_COSTLY_ORDER && (cma || mt !== MT.MOVABLE)
          ? pcp.rmqueue(this, z, this.cpu, order, mt, cma)
          : -1;
      if (pfn < 0) pfn = this.rmqueue(zone, order, mt, cma);
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
    return this.allocFailed(order, gfp);
  }

  private allocFailed(order: number, gfp: number): number {
    this.stats.allocFail++;
    // costly orders and __GFP_RETRY_MAYFAIL/__GFP_NORETRY never OOM-kill (§1.7, §8.2)
    if (order <= 3 && !(gfp & (__GFP_RETRY_MAYFAIL | __GFP_NORETRY))) this.stats.oomWouldKill++;
    return -1;
  }

  /**
   * alloc_pages_exact(): a 2^order block trimmed to `nrPages` (§5.1: TEE_IOC_SHM_ALLOC). More
   * than 2^MAX_PAGE_ORDER pages always fails. make_alloc_exact() frees the tail page by page with
   * __free_pages_ok(page, 0, FPI_TO_TAIL): straight to the buddy, past the per-CPU lists.
   */
  allocPagesExact(nrPages: number, gfp: number, kind: PageKind): number {
    const order = Math.max(0, Math.ceil(Math.log2(nrPages)));
    const pfn = this.allocPages(order, gfp, kind);
    for (let p = pfn + nrPages; pfn >= 0 && p < pfn + (1 << order); p++) {
      this.stats.pgfree++;
      this.pages.kind[p] = PageKind.FREE;
      this.freeOneBlock(p, 0, true);
    }
    return pfn;
  }

  /**
   * __free_one_page(): merge with free buddies, never across non-mergeable types (§1.2, §1.4),
   * then add the block at the tail when `toTail` (FPI_TO_TAIL) or buddy_merge_likely() says so,
   * else at the head.
   */
  freeOneBlock(pfn: number, order: number, toTail = false): void {
    const zone = this.zoneOf(pfn);
    const mt = this.effectiveMt(pfn);
    this.accountFree(zone, order, mt, 1); // merging moves no page between counters...
    while (order < MAX_PAGE_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (!zone.contains(buddy) || !this.isFreeHead(buddy, order)) break;
      const buddyMt = order < PAGEBLOCK_ORDER ? mt : this.effectiveMt(buddy);
      if (buddyMt === mt) {
        this.unlinkHead(zone, buddy, order, mt);
      } else {
        if (!isMergeable(mt) || !isMergeable(buddyMt)) break;
        // ...except a buddy of another type: its pages change type (change_pageblock_range)
        this.delFromFreeList(zone, buddy, order, buddyMt);
        this.accountFree(zone, order, mt, 1);
        this.setPageblockMt(buddy >> PAGEBLOCK_ORDER, mt);
      }
      pfn &= ~(1 << order);
      order++;
    }
    this.linkHead(zone, pfn, order, mt, toTail || this.buddyMergeLikely(zone, pfn, order));
  }

  /**
   * buddy_merge_likely(): below MAX_PAGE_ORDER - 1, the buddy of the next larger block is free,
   * so this block may soon merge into it (only list order depends on it).
   */
  private buddyMergeLikely(zone: Zone, pfn: number, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false;
    const higherBuddy = (pfn & ~(1 << order)) ^ (1 << (order + 1));
    return zone.contains(higherBuddy) && this.isFreeHead(higherBuddy, order + 1);
  }

  /**
   * Free 2^order pages at pfn: clear their state and give them back to the buddy, or with pcp=on
   * to this CPU's list (free_unref_page(): a CMA or HIGHATOMIC page to the MOVABLE list, an
   * isolated pageblock's straight to the buddy).
   */
  freePages(pfn: number, order: number): void {
    this.stats.pgfree += 1 << order;
    const { pcp } = this;
    const mt =
      pcp !== null && order <= PAGE_ALLOC_COSTLY_ORDER ? this.effectiveMt(pfn) : MT.ISOLATE;
    const kind = mt === MT.ISOLATE ? PageKind.FREE : PageKind.PCP;
    if (order === 0) this.pages.kind[pfn] = kind;
    else this.pages.kind.fill(kind, pfn, pfn + (1 << order));
    if (mt === MT.ISOLATE) this.freeOneBlock(pfn, order, false);
    else {
      const zone = pfn < this.movableStartPfn ? 0 : 1;
      pcp!.free(this, zone, this.cpu, pfn, order, mt < MIGRATE_PCPTYPES ? mt : MT.MOVABLE);
    }
  }

  /**
   * Free an arbitrary page range (free_contig_range): page by page with pcp=on, as its
   * __free_page() calls do, else as maximal aligned blocks.
   */
  freeRange(start: number, end: number): void {
    if (this.pcp !== null) {
      for (let p = start; p < end; p++) this.freePages(p, 0);
      return;
    }
    this.stats.pgfree += end - start;
    this.pages.kind.fill(PageKind.FREE, start, end);
    this.freeRangeToBuddy(start, end, false);
  }

  /** PcpBuddy: __rmqueue() of one block for rmqueue_bulk(); it becomes a per-CPU page. */
  rmqueueBulkOne(zone: number, order: number, mt: number, cma: boolean): number {
    const pfn = this.rmqueue(this.zones[zone]!, order, mt, cma);
    if (pfn >= 0) this.pages.kind.fill(PageKind.PCP, pfn, pfn + (1 << order));
    return pfn;
  }

  /** PcpBuddy: a block leaves a per-CPU list for the buddy (free_pcppages_bulk). */
  freePcpBlock(pfn: number, order: number): void {
    this.pages.kind.fill(PageKind.FREE, pfn, pfn + (1 << order));
    this.freeOneBlock(pfn, order, false);
  }

  /** PcpBuddy: test_bit(ZONE_BELOW_HIGH, &zone->flags). */
  zoneBelowHigh(zone: number): boolean {
    return this.zones[zone]!.belowHigh;
  }

  /**
   * PcpBuddy, after a bulk free (6.18 free_frozen_page_commit()): clear ZONE_BELOW_HIGH once
   * zone_watermark_ok(zone, 0, high_wmark_pages(zone), ZONE_MOVABLE, 0) holds: alloc_flags 0, so
   * free CMA pages do not count (no lowmem_reserve, as in watermarkOk()).
   */
  bulkFreedBelowHigh(zone: number): void {
    const z = this.zones[zone]!;
    if (z.belowHigh && this.watermarkOk(z, 0, false, z.highWatermark)) z.belowHigh = false;
  }

  /** drain_all_pages(zone): every CPU's lists of the zone back to the buddy; pages drained. */
  drainAllPages(zone: Zone): number {
    return this.pcp === null ? 0 : this.pcp.drainZone(this, this.zones.indexOf(zone));
  }

  /** Free [start, end) as maximal aligned blocks, lowest first (__free_pages_memory). */
  private freeRangeToBuddy(start: number, end: number, toTail: boolean): void {
    let p = start;
    while (p < end) {
      let o = p === 0 ? MAX_PAGE_ORDER : Math.min(ctz32(p), MAX_PAGE_ORDER);
      while (p + (1 << o) > end) o--;
      this.freeOneBlock(p, o, toTail);
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
      // free_contig_range() of the head and tail
      if (head < start) this.freeRangeToBuddy(head, start, false);
      if (blockEnd > end) this.freeRangeToBuddy(end, blockEnd, false);
      p = blockEnd;
    }
  }

  // ---- pageblocks ---------------------------------------------------------------------------

  /**
   * Move the free blocks headed in a pageblock to another list type and fix the counters
   * (move_freepages_block(): lowest first, each to the tail of its new list).
   */
  private moveFreeLists(pb: number, from: number, to: number): void {
    const zone = this.zoneOf(pb << PAGEBLOCK_ORDER);
    const n =
      this.fl !== null
        ? this.moveFreeBlocks(zone, pb, from, to)
        : this.moveSets(zone, pb, from, to);
    if (from !== MT.ISOLATE) zone.freePages -= n;
    if (from === MT.CMA) zone.freeCma -= n;
    if (to !== MT.ISOLATE) zone.freePages += n;
    if (to === MT.CMA) zone.freeCma += n;
  }

  /** placement=kernel: __move_freepages_block(), in pfn order; returns the pages moved. */
  private moveFreeBlocks(zone: Zone, pb: number, from: number, to: number): number {
    const fl = this.fl!;
    const end = (pb + 1) << PAGEBLOCK_ORDER;
    let n = 0;
    for (let p = this.nextBuddy(pb << PAGEBLOCK_ORDER, end); p < end; ) {
      const o = fl.orderOf(p);
      n += 1 << o;
      if (fl.del(zone.listBase + from * NR_PAGE_ORDERS + o, p)) zone.avail[from]! &= ~(1 << o);
      if (fl.add(zone.listBase + to * NR_PAGE_ORDERS + o, p, o, true)) zone.avail[to]! |= 1 << o;
      p = this.nextBuddy(p + (1 << o), end);
    }
    return n;
  }

  /** The sets' move of pageblock pb's heads from one list type to another; returns the pages. */
  private moveSets(zone: Zone, pb: number, from: number, to: number): number {
    let n = 0;
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
      const heads = this.heads[o]!;
      const lo = headBit(pb, o);
      const hi = headBit(pb + 1, o);
      const move = (e: number) => {
        if (zone.lists[from * NR_PAGE_ORDERS + o]!.delete(e)) zone.avail[from]! &= ~(1 << o);
        if (zone.lists[to * NR_PAGE_ORDERS + o]!.add(e)) zone.avail[to]! |= 1 << o;
      };
      if (o < WORD_ORDERS) {
        for (let w = lo >>> 5; w < hi >>> 5; w++) {
          if (heads[w] === 0) continue;
          n += popcount32(heads[w]!) << o;
          move(w);
        }
      } else {
        for (let b = findNextBit(heads, hi, lo, 1); b < hi; b = findNextBit(heads, hi, b + 1, 1)) {
          n += 1 << o;
          move(b);
        }
      }
    }
    return n;
  }

  /** set_pageblock_migratetype() for a non-isolated block (claiming, CMA activation). */
  setPageblockMt(pb: number, mt: MT): void {
    const old = this.pbMt[pb]!;
    if (old === mt) return;
    this.pbMt[pb] = mt;
    if (!this.pbIsolated[pb]) this.moveFreeLists(pb, old, mt);
  }

  /**
   * Split a free order-MAX block that spans pb and its neighbour (6.18 split_large_buddy(): both
   * halves freed with FPI_NONE, at the head).
   */
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
      this.freeOneBlock(head, PAGEBLOCK_ORDER, true); // __putback_isolated_page(): FPI_TO_TAIL
    }
  }

  /**
   * Give [start, end) to the buddy at boot. memblock_free_all() → __free_pages_core() frees
   * maximal aligned blocks, lowest first, to the tail (FPI_TO_TAIL): a fresh machine hands out
   * ascending pfns. init_cma_reserved_pageblock() frees each CMA pageblock with __free_pages()
   * (FPI_NONE): merged order-10 blocks go to the head, so the highest comes first.
   */
  bootFree(start: number, end: number): void {
    const zone = this.zoneOf(start);
    zone.managedPages += end - start;
    if (this.pbMt[start >> PAGEBLOCK_ORDER] !== MT.CMA) {
      this.freeRangeToBuddy(start, end, true);
      return;
    }
    for (let p = start; p < end; p += PAGEBLOCK_NR_PAGES) this.freeOneBlock(p, PAGEBLOCK_ORDER);
  }

  /**
   * Boot in a captured state (boot_layout.ts, §1.9): the pages [pfn, pfn + 2^order) become a free
   * block on their pageblock's list, unmerged; the caller keeps its buddy in use or split.
   */
  layoutFree(pfn: number, order: number): void {
    this.pages.kind.fill(PageKind.FREE, pfn, pfn + (1 << order));
    this.addToFreeList(this.zoneOf(pfn), pfn, order, this.pbMt[pfn >> PAGEBLOCK_ORDER]!);
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
