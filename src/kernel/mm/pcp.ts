// Per-CPU page lists (policy pcp=on): zone->per_cpu_pageset of mm/page_alloc.c, 6.4 and 6.18.
// Orders 0..PAGE_ALLOC_COSTLY_ORDER are served from one list per (zone, cpu, order, PCP
// migratetype), threaded through the pages as the free lists are (FreeLists). The buddy side
// (__rmqueue, __free_one_page) is PageAlloc's; this module decides when, how many and which.
//
// Modelled: zone_batchsize(), zone_highsize() (the high watermark split over the CPUs), refill by
// rmqueue_bulk() to the tail, alloc from the head, free to the head, free_pcppages_bulk() from
// the tails round robin from the freeing list on; 6.4's free_factor and free_high; 6.18's
// free_count, alloc_factor, pcp->high moving between high_min and high_max (nr_pcp_alloc,
// nr_pcp_high), PCPF_PREV_FREE_HIGH_ORDER and the 6.16+ free_high threshold. Not modelled: the
// THP list (order pageblock_order), ZONE_RECLAIM_ACTIVE and ZONE_BELOW_HIGH (the model has no
// kswapd: a zone counts as above its high watermark), decay_pcp_high() (the vmstat worker),
// PCPF_FREE_HIGH_BATCH (set from the cache size: taken as unset), drain_zone_pages() of NUMA.

import type { KernelVersion } from '../config.js';
import { features } from '../features.js';
import { FreeLists } from './free_list.js';

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
}

/** zone_batchsize(): ~0.1% of the zone or 1 MiB, over 4, rounded to 2^n - 1; at least 1. */
export function zoneBatchsize(managed: number): number {
  const batch = Math.max(1, Math.floor(Math.min(managed >> 10, 256) / 4));
  return Math.max(1, 2 ** Math.floor(Math.log2(batch + (batch >> 1))) - 1);
}

export class PerCpuPages {
  /** the lists; list (zone * cpus + cpu) * NR_PCP_LISTS + pindex */
  readonly lists: FreeLists;
  /** per zone: pcp->batch, high_min and high_max (6.4: high_min = high_max = pcp->high) */
  private readonly batch: Int32Array;
  private readonly highMin: Int32Array;
  private readonly highMax: Int32Array;
  /** per (zone, cpu): pcp->count, in pages */
  readonly count: Int32Array;
  /** per (zone, cpu): pcp->high (6.18 tunes it between high_min and high_max) */
  private readonly high: Int32Array;
  /** per (zone, cpu): 6.4 free_factor, 6.18 free_count */
  private readonly freeFactor: Int32Array;
  /** per (zone, cpu), 6.18: alloc_factor and PCPF_PREV_FREE_HIGH_ORDER */
  private readonly allocFactor: Int32Array;
  private readonly prevFreeHighOrder: Uint8Array;
  /** allocations served from a list as it was (hits) and those that refilled it first */
  hits = 0;
  refills = 0;
  /** the 6.7+ high tuning (features.ts) */
  private readonly highAuto: boolean;

  constructor(
    nrPfns: number,
    nrZones: number,
    readonly cpus: number,
    version: KernelVersion,
  ) {
    this.highAuto = features(version).pcpHighAuto;
    const n = nrZones * cpus;
    this.lists = new FreeLists(nrPfns, n * NR_PCP_LISTS);
    this.batch = new Int32Array(nrZones);
    this.highMin = new Int32Array(nrZones);
    this.highMax = new Int32Array(nrZones);
    this.count = new Int32Array(n);
    this.high = new Int32Array(n);
    this.freeFactor = new Int32Array(n);
    this.allocFactor = new Int32Array(n);
    this.prevFreeHighOrder = new Uint8Array(n);
  }

  /**
   * zone_set_pageset_high_and_batch(): batch from zone_batchsize(); high from zone_highsize():
   * the low watermark split over the CPUs, at least 4 batches; 6.18's high_max the same of
   * managed / 8.
   */
  setZone(zone: number, managed: number, lowWmark: number): void {
    const batch = zoneBatchsize(managed);
    const highsize = (total: number) => Math.max(Math.floor(total / this.cpus), batch << 2);
    this.batch[zone] = batch;
    this.highMin[zone] = highsize(lowWmark);
    this.highMax[zone] = this.highAuto
      ? highsize(Math.floor(managed / HIGH_FRACTION))
      : this.highMin[zone]!;
    for (let cpu = 0; cpu < this.cpus; cpu++)
      this.high[zone * this.cpus + cpu] = this.highMin[zone]!;
  }

  /** The first list of (zone, cpu). */
  listBase(zone: number, cpu: number): number {
    return (zone * this.cpus + cpu) * NR_PCP_LISTS;
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
    const p = zone * this.cpus + cpu;
    this.freeFactor[p]! >>= 1; // 6.4: free_factor >>= 1; 6.18: free_count >>= 1
    const l = p * NR_PCP_LISTS + orderToPindex(mt, order);
    let pfn = this.lists.shift(l);
    if (pfn < 0) {
      pfn = this.rmqueueBulk(buddy, p, zone, l, order, mt, cma);
      if (pfn < 0) return -1;
    } else {
      this.hits++;
    }
    this.count[p]! -= 1 << order;
    return pfn;
  }

  /**
   * rmqueue_bulk() into the empty list l of (zone, cpu) p, to the tail; its head taken off, or -1
   * when the buddy had no page. Out of rmqueue() so that the hit path stays small enough to be
   * inlined into the page allocator's.
   */
  private rmqueueBulk(
    buddy: PcpBuddy,
    p: number,
    zone: number,
    l: number,
    order: number,
    mt: number,
    cma: boolean,
  ): number {
    const { lists } = this;
    const batch = this.nrPcpAlloc(p, zone, order);
    let n = 0;
    for (; n < batch; n++) {
      const pfn = buddy.rmqueueBulkOne(zone, order, mt, cma);
      if (pfn < 0) break;
      lists.add(l, pfn, order, true);
    }
    this.count[p]! += n << order;
    if (n === 0) return -1;
    this.refills++;
    return lists.shift(l);
  }

  /**
   * The batch rmqueue_bulk() takes: 6.4 pcp->batch; 6.18 nr_pcp_alloc(), which doubles it for
   * each order-0 refill without a free in between (alloc_factor) and raises pcp->high by it. Then
   * scaled to the order: max(batch >> order, 2).
   */
  private nrPcpAlloc(p: number, zone: number, order: number): number {
    const base = this.batch[zone]!;
    let batch = base;
    if (this.highAuto) {
      const high = this.clampHigh(p, zone);
      if (high < base) return 1;
      if (order === 0) batch = base << this.allocFactor[p]!;
      const highMax = this.highMax[zone]!;
      const raised = this.highMin[zone] !== highMax ? Math.min(high + batch, highMax) : high;
      this.high[p] = raised;
      if (order === 0) {
        const maxNrAlloc = Math.max(raised - this.count[p]! - base, base);
        if (batch <= maxNrAlloc && this.allocFactor[p]! < PCP_BATCH_SCALE_MAX)
          this.allocFactor[p]!++;
        batch = Math.min(batch, maxNrAlloc);
      }
    }
    return batch > 1 ? Math.max(batch >> order, 2) : batch;
  }

  /** pcp->high = clamp(pcp->high, high_min, high_max) (6.18). */
  private clampHigh(p: number, zone: number): number {
    const h = Math.min(Math.max(this.high[p]!, this.highMin[zone]!), this.highMax[zone]!);
    this.high[p] = h;
    return h;
  }

  /**
   * free_unref_page_commit() (6.18 free_frozen_page_commit()): pfn, a 2^order block of PCP type
   * mt, to the head of its list; past high, free_pcppages_bulk() returns nr_pcp_free() pages.
   */
  free(buddy: PcpBuddy, zone: number, cpu: number, pfn: number, order: number, mt: number): void {
    const p = zone * this.cpus + cpu;
    const pindex = orderToPindex(mt, order);
    this.lists.add(p * NR_PCP_LISTS + pindex, pfn, order, false);
    this.count[p]! += 1 << order;
    const batch = this.batch[zone]!;
    let freeHigh: boolean;
    let high: number;
    if (!this.highAuto) {
      freeHigh = this.freeFactor[p] !== 0 && order !== 0; // orders above 3 never get here
      high = freeHigh ? 0 : this.high[p]!; // nr_pcp_high()
    } else {
      this.allocFactor[p]! >>= 1;
      freeHigh = false;
      if (order !== 0) {
        // free_count >= batch + high_min / 2 since c544a952ba61 (6.16; before: >= batch)
        freeHigh =
          this.freeFactor[p]! >= batch + (this.highMin[zone]! >> 1) &&
          this.prevFreeHighOrder[p] === 1;
        this.prevFreeHighOrder[p] = 1;
      } else {
        this.prevFreeHighOrder[p] = 0;
      }
      if (this.freeFactor[p]! < batch << PCP_BATCH_SCALE_MAX) this.freeFactor[p]! += 1 << order;
      high = this.nrPcpHigh(p, zone, batch, freeHigh);
    }
    if (this.count[p]! >= high)
      this.freeBulk(buddy, p, this.nrPcpFree(p, batch, high, freeHigh), pindex);
  }

  /** 6.18 nr_pcp_high() of a zone above its high watermark without reclaim. */
  private nrPcpHigh(p: number, zone: number, batch: number, freeHigh: boolean): number {
    const high = this.clampHigh(p, zone);
    if (high === 0) return 0;
    const highMin = this.highMin[zone]!;
    if (freeHigh) {
      this.high[p] = Math.max(high - (batch << PCP_BATCH_SCALE_MAX), highMin);
      return 0;
    }
    const highMax = this.highMax[zone]!;
    if (highMin !== highMax && this.count[p]! >= high) {
      const needHigh = this.freeFactor[p]! + batch; // free_count + batch
      if (high < needHigh) this.high[p] = Math.min(Math.max(needHigh, highMin), highMax);
    }
    return high;
  }

  /**
   * nr_pcp_free(): everything (6.4) or up to 32 batches (6.18) when freeing high orders;
   * otherwise 6.4 doubles the batch per consecutive bulk free (free_factor), 6.18 takes the
   * pages freed since the last allocation (free_count), clamped to [batch, high - batch].
   */
  private nrPcpFree(p: number, batch: number, high: number, freeHigh: boolean): number {
    const count = this.count[p]!;
    if (freeHigh) return this.highAuto ? Math.min(count, batch << PCP_BATCH_SCALE_MAX) : count;
    if (high < batch) return 1;
    let n = this.freeFactor[p]!;
    if (!this.highAuto) {
      n = batch << n;
      if (n < high - batch) this.freeFactor[p]!++;
    }
    return Math.min(Math.max(n, batch), high - batch);
  }

  /**
   * free_pcppages_bulk(): `count` pages from the tails of the lists, round robin from `pindex`
   * on, each back to the buddy.
   */
  private freeBulk(buddy: PcpBuddy, p: number, count: number, pindex: number): void {
    const { lists } = this;
    const base = p * NR_PCP_LISTS;
    let left = Math.min(count, this.count[p]!);
    let i = pindex - 1;
    while (left > 0) {
      do if (++i > NR_PCP_LISTS - 1) i = 0;
      while (lists.head(base + i) < 0);
      const order = Math.floor(i / MIGRATE_PCPTYPES); // pindex_to_order()
      do {
        const pfn = lists.tail(base + i);
        lists.del(base + i, pfn);
        left -= 1 << order;
        this.count[p]! -= 1 << order;
        buddy.freePcpBlock(pfn, order);
      } while (left > 0 && lists.head(base + i) >= 0);
    }
  }

  /** drain_all_pages(zone): every CPU's lists of the zone back to the buddy (drain_pages_zone). */
  drainZone(buddy: PcpBuddy, zone: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const p = zone * this.cpus + cpu;
      n += this.count[p]!;
      if (this.count[p]! > 0) this.freeBulk(buddy, p, this.count[p]!, 0);
    }
    return n;
  }

  /** The pages on every list of a zone. */
  zoneCount(zone: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) n += this.count[zone * this.cpus + cpu]!;
    return n;
  }
}
