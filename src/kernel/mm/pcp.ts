// Per-CPU page lists (policy pcp=on): zone->per_cpu_pageset of mm/page_alloc.c, 6.4 and 6.18.
// Orders 0..PAGE_ALLOC_COSTLY_ORDER are served from one list per (zone, cpu, order, PCP
// migratetype), threaded through the pages as the free lists are (PfnLists). The buddy side
// (__rmqueue, __free_one_page) is PageAlloc's; this module decides when, how many and which.
//
// Modelled: zone_batchsize(), zone_highsize() (the high watermark split over the CPUs), refill by
// rmqueue_bulk() to the tail, alloc from the head, free to the head, free_pcppages_bulk() from
// the tails round robin from the freeing list on; 6.4's free_factor and free_high; 6.18's
// free_count, alloc_factor, pcp->high moving between high_min and high_max (nr_pcp_alloc,
// nr_pcp_high), PCPF_PREV_FREE_HIGH_ORDER and the 6.16+ free_high threshold, and 6.7+'s
// ZONE_BELOW_HIGH (set by the page allocator, which owns the zone flags: PcpBuddy). Not modelled:
// the THP list (order pageblock_order), ZONE_RECLAIM_ACTIVE (set by kswapd only, which the model
// does not have), decay_pcp_high() (the vmstat worker), PCPF_FREE_HIGH_BATCH (set from the cache
// size: taken as unset), drain_zone_pages() of NUMA.

import type { KernelVersion } from '../config.js';
import { features } from '../features.js';
import { PfnLists } from './free_list.js';

/** PAGE_ALLOC_COSTLY_ORDER: pcp_allowed_order() (the THP order aside). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/** MIGRATE_PCPTYPES: UNMOVABLE, MOVABLE, RECLAIMABLE. */
export const MIGRATE_PCPTYPES = 3;
/** NR_LOWORDER_PCP_LISTS. */
const NR_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
/** CONFIG_PCP_BATCH_SCALE_MAX's default. */
const PCP_BATCH_SCALE_MAX = 5;
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION: 6.18's high_max is managed / 8 split over the CPUs. */
const HIGH_FRACTION = 8;

/** order_to_pindex(). */
const orderToPindex = (mt: number, order: number): number => MIGRATE_PCPTYPES * order + mt;

/** The buddy allocator below the lists. */
export interface PcpBuddy {
  /** __rmqueue() of one 2^order block for rmqueue_bulk(): its pfn, or -1 */
  rmqueueBulkOne(zone: number, order: number, mt: number, cma: boolean): number;
  /** __free_one_page() of a block free_pcppages_bulk() takes off a list */
  freePcpBlock(pfn: number, order: number): void;
  /** test_bit(ZONE_BELOW_HIGH, &zone->flags): only ever set from 6.7 on (features.ts) */
  zoneBelowHigh(zone: number): boolean;
  /** after free_pcppages_bulk() on a free: clear ZONE_BELOW_HIGH if the zone is above WMARK_HIGH */
  bulkFreedBelowHigh(zone: number): void;
}

/** zone_batchsize(): ~0.1% of the zone or 1 MiB, over 4, rounded to 2^n - 1; at least 1. */
export function zoneBatchsize(managed: number): number {
  const batch = Math.max(1, Math.floor(Math.min(managed >> 10, 256) / 4));
  return Math.max(1, 2 ** Math.floor(Math.log2(batch + (batch >> 1))) - 1);
}

/**
 * struct per_cpu_pages of one (zone, cpu): a small object with integer fields, which the JIT
 * reads in one instruction each (the lists themselves are threaded through the pages).
 */
class PerCpuPageset {
  /** pcp->count, in pages */
  count = 0;
  /** pcp->high (6.18 tunes it between highMin and highMax) */
  high = 0;
  /** 6.4 free_factor, 6.18 free_count */
  freeFactor = 0;
  /** 6.18 alloc_factor */
  allocFactor = 0;
  /** 6.18 PCPF_PREV_FREE_HIGH_ORDER */
  prevFreeHighOrder = false;
  /** pcp->batch; pcp->high_min and high_max (6.4: both pcp->high), set by setZone() */
  batch = 0;
  highMin = 0;
  highMax = 0;

  constructor(
    /** the first of its NR_PCP_LISTS lists */
    readonly listBase: number,
  ) {}
}

export class PerCpuPages {
  /** the lists; list (zone * cpus + cpu) * NR_PCP_LISTS + pindex */
  readonly lists: PfnLists;
  /** the pagesets; (zone, cpu) at zone * cpus + cpu */
  private readonly sets: PerCpuPageset[];
  /** allocations served from a list as it was (hits) and those that refilled it first */
  hits = 0;
  refills = 0;
  /** the 6.7+ high tuning (features.ts); ZONE_BELOW_HIGH is the zone's, PcpBuddy.zoneBelowHigh() */
  private readonly highAuto: boolean;

  constructor(
    /** pageLru(), shared with the free lists */
    lru: Int32Array,
    nrZones: number,
    readonly cpus: number,
    version: KernelVersion,
  ) {
    this.highAuto = features(version).pcpHighAuto;
    const n = nrZones * cpus;
    this.lists = new PfnLists(lru, n * NR_PCP_LISTS);
    this.sets = Array.from({ length: n }, (_, p) => new PerCpuPageset(p * NR_PCP_LISTS));
  }

  /**
   * zone_set_pageset_high_and_batch(): batch from zone_batchsize(); high from zone_highsize():
   * the low watermark split over the CPUs, at least 4 batches; 6.18's high_max the same of
   * managed / 8. They never change afterwards (no sysctl, no memory hotplug, no
   * decay_pcp_high()), so pcp->high stays within [high_min, high_max] and the kernel's
   * clamp(pcp->high, high_min, high_max) is the identity here: it is left out.
   */
  setZone(zone: number, managed: number, lowWmark: number): void {
    const batch = zoneBatchsize(managed);
    const highsize = (total: number) => Math.max(Math.floor(total / this.cpus), batch << 2);
    const highMin = highsize(lowWmark);
    const highMax = this.highAuto ? highsize(Math.floor(managed / HIGH_FRACTION)) : highMin;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const pcp = this.sets[zone * this.cpus + cpu]!;
      pcp.batch = batch;
      pcp.highMin = highMin;
      pcp.highMax = highMax;
      pcp.high = highMin;
    }
  }

  /** The first list of (zone, cpu). */
  listBase(zone: number, cpu: number): number {
    return (zone * this.cpus + cpu) * NR_PCP_LISTS;
  }

  /** pcp->count of (zone, cpu), in pages. */
  count(zone: number, cpu: number): number {
    return this.sets[zone * this.cpus + cpu]!.count;
  }

  /** pcp->high of (zone, cpu), in pages (6.18 tunes it between high_min and high_max). */
  high(zone: number, cpu: number): number {
    return this.sets[zone * this.cpus + cpu]!.high;
  }

  /**
   * rmqueue_pcplist(): the head of the (order, mt) list of this CPU, refilled first by
   * rmqueue_bulk() when empty; -1 when the buddy has nothing either.
   */
  rmqueue(
    buddy: PcpBuddy,
    zone: number,
    cpu: number,
    order: number,
    mt: number,
    cma: boolean,
  ): number {
    const pcp = this.sets[zone * this.cpus + cpu]!;
    pcp.freeFactor >>= 1; // 6.4: free_factor >>= 1; 6.18: free_count >>= 1
    const l = pcp.listBase + orderToPindex(mt, order);
    let pfn = this.lists.shift(l);
    if (pfn < 0) {
      pfn = this.rmqueueBulk(buddy, pcp, zone, l, order, mt, cma);
      if (pfn < 0) return -1;
    } else {
      this.hits++;
    }
    pcp.count -= 1 << order;
    return pfn;
  }

  /**
   * rmqueue_bulk() into pcp's empty list l, to the tail; its head taken off, or -1 when the buddy
   * had no page. Out of rmqueue() so that the hit path stays small enough to be inlined into the
   * page allocator's.
   */
  private rmqueueBulk(
    buddy: PcpBuddy,
    pcp: PerCpuPageset,
    zone: number,
    l: number,
    order: number,
    mt: number,
    cma: boolean,
  ): number {
    const { lists } = this;
    const batch = this.nrPcpAlloc(buddy, pcp, zone, order);
    let n = 0;
    for (; n < batch; n++) {
      const pfn = buddy.rmqueueBulkOne(zone, order, mt, cma);
      if (pfn < 0) break;
      lists.push(l, pfn, true);
    }
    pcp.count += n << order;
    if (n === 0) return -1;
    this.refills++;
    return lists.shift(l);
  }

  /**
   * The batch rmqueue_bulk() takes: 6.4 pcp->batch; 6.18 nr_pcp_alloc(), which doubles it for
   * each order-0 refill without a free in between (alloc_factor) and raises pcp->high by it
   * unless the zone is ZONE_BELOW_HIGH. Then scaled to the order: max(batch >> order, 2).
   */
  private nrPcpAlloc(buddy: PcpBuddy, pcp: PerCpuPageset, zone: number, order: number): number {
    const base = pcp.batch;
    let batch = base;
    if (this.highAuto) {
      const { high, highMax } = pcp;
      if (high < base) return 1;
      if (order === 0) batch = base << pcp.allocFactor;
      if (pcp.highMin !== highMax && !buddy.zoneBelowHigh(zone))
        pcp.high = Math.min(high + batch, highMax);
      if (order === 0) {
        const maxNrAlloc = Math.max(pcp.high - pcp.count - base, base);
        if (batch <= maxNrAlloc && pcp.allocFactor < PCP_BATCH_SCALE_MAX) pcp.allocFactor++;
        batch = Math.min(batch, maxNrAlloc);
      }
    }
    return batch > 1 ? Math.max(batch >> order, 2) : batch;
  }

  /**
   * free_unref_page_commit() (6.18 free_frozen_page_commit()): pfn, a 2^order block of PCP type
   * mt, to the head of its list; past high, free_pcppages_bulk() returns nr_pcp_free() pages.
   */
  free(buddy: PcpBuddy, zone: number, cpu: number, pfn: number, order: number, mt: number): void {
    const pcp = this.sets[zone * this.cpus + cpu]!;
    const pindex = orderToPindex(mt, order);
    this.lists.push(pcp.listBase + pindex, pfn, false);
    pcp.count += 1 << order;
    let freeHigh = false;
    let high: number;
    if (!this.highAuto) {
      freeHigh = pcp.freeFactor !== 0 && order !== 0; // orders above 3 never get here
      high = freeHigh ? 0 : pcp.high; // nr_pcp_high()
    } else {
      pcp.allocFactor >>= 1;
      if (order !== 0) {
        // free_count >= batch + high_min / 2 since c544a952ba61 (6.16; before: >= batch)
        freeHigh = pcp.freeFactor >= pcp.batch + (pcp.highMin >> 1) && pcp.prevFreeHighOrder;
        pcp.prevFreeHighOrder = true;
      } else {
        pcp.prevFreeHighOrder = false;
      }
      if (pcp.freeFactor < pcp.batch << PCP_BATCH_SCALE_MAX) pcp.freeFactor += 1 << order;
      high = this.nrPcpHigh(buddy, pcp, zone, freeHigh);
    }
    if (pcp.count < high) return;
    this.freeBulk(buddy, pcp, this.nrPcpFree(pcp, high, freeHigh), pindex);
    buddy.bulkFreedBelowHigh(zone);
  }

  /**
   * 6.18 nr_pcp_high() without reclaim (ZONE_RECLAIM_ACTIVE): below the zone's high watermark
   * (ZONE_BELOW_HIGH) pcp->high shrinks by the pages freed since the last allocation, at least a
   * batch, down to high_min, and any count from high_min on is freed; otherwise pcp->high grows to
   * hold them.
   */
  private nrPcpHigh(buddy: PcpBuddy, pcp: PerCpuPageset, zone: number, freeHigh: boolean): number {
    const { high, highMin, highMax, batch } = pcp;
    if (high === 0) return 0;
    if (freeHigh) {
      pcp.high = Math.max(high - (batch << PCP_BATCH_SCALE_MAX), highMin);
      return 0;
    }
    if (highMin === highMax) return high;
    if (buddy.zoneBelowHigh(zone)) {
      pcp.high = Math.max(high - Math.max(pcp.freeFactor, batch), highMin); // free_count
      return Math.max(pcp.count, highMin);
    }
    if (pcp.count >= high) {
      const needHigh = pcp.freeFactor + batch; // free_count + batch
      if (high < needHigh) pcp.high = Math.min(Math.max(needHigh, highMin), highMax);
    }
    return high;
  }

  /**
   * nr_pcp_free(): everything (6.4) or up to 32 batches (6.18) when freeing high orders;
   * otherwise 6.4 doubles the batch per consecutive bulk free (free_factor), 6.18 takes the
   * pages freed since the last allocation (free_count), clamped to [batch, high - batch].
   */
  private nrPcpFree(pcp: PerCpuPageset, high: number, freeHigh: boolean): number {
    const { count, batch } = pcp;
    if (freeHigh) return this.highAuto ? Math.min(count, batch << PCP_BATCH_SCALE_MAX) : count;
    if (high < batch) return 1;
    let n = pcp.freeFactor;
    if (!this.highAuto) {
      n = batch << n;
      if (n < high - batch) pcp.freeFactor++;
    }
    return Math.min(Math.max(n, batch), high - batch);
  }

  /**
   * free_pcppages_bulk(): `count` pages from the tails of pcp's lists, round robin from `pindex`
   * on, each back to the buddy.
   */
  private freeBulk(buddy: PcpBuddy, pcp: PerCpuPageset, count: number, pindex: number): void {
    const { lists } = this;
    const base = pcp.listBase;
    let left = Math.min(count, pcp.count);
    let i = pindex - 1;
    while (left > 0) {
      do if (++i > NR_PCP_LISTS - 1) i = 0;
      while (lists.head(base + i) < 0);
      const order = Math.floor(i / MIGRATE_PCPTYPES); // pindex_to_order()
      do {
        const pfn = lists.tail(base + i);
        lists.remove(base + i, pfn);
        left -= 1 << order;
        pcp.count -= 1 << order;
        buddy.freePcpBlock(pfn, order);
      } while (left > 0 && lists.head(base + i) >= 0);
    }
  }

  /** drain_all_pages(zone): every CPU's lists of the zone back to the buddy (drain_pages_zone). */
  drainZone(buddy: PcpBuddy, zone: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const pcp = this.sets[zone * this.cpus + cpu]!;
      n += pcp.count;
      if (pcp.count > 0) this.freeBulk(buddy, pcp, pcp.count, 0);
    }
    return n;
  }
}
