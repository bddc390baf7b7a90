// alloc_contig_range() for the CMA path (kernel-model.md §2.4): isolate whole pageblocks, migrate what can
// move, then require every page of the range to be free.
import { COMPACT_CLUSTER_MAX, CONTIG_MIGRATE_TRIES, ERRNO, PAGEBLOCK_ORDER } from '../config.js';
import {
  COLLECT_FREE_PAGE_NS,
  CONTIG_ATTEMPT_NS,
  ISOLATE_PAGEBLOCK_NS,
  RECLAIM_PAGE_NS,
} from '../cost.js';
import { features } from '../features.js';
import type { Kernel } from '../kernel.js';
import { cleancachePut } from './cleancache.js';
import { __GFP_MOVABLE, __GFP_RETRY_MAYFAIL, GFP_KERNEL, GFP_USER } from './gfp.js';
import { migratePages } from './migrate.js';
import { PageKind, PG_DIRTY, PG_MLOCKED } from './page.js';

/** What one attempt found, for blame: the first busy pfn of test_pages_isolated (§2.4). */
export interface ContigResult {
  ret: number;
  /** fin_pfn of test_pages_isolated, or -1 if it did not run */
  finPfn: number;
  migrated: number;
}

/**
 * isolate_migratepages_range(): scan from pfn, isolating up to COMPACT_CLUSTER_MAX pages onto
 * `list`; returns the pfn where the scan stopped (cc->migrate_pfn).
 */
function isolateMigratepagesRange(k: Kernel, pfn: number, end: number, list: number[]): number {
  const { pages } = k.alloc;
  while (pfn < end) {
    const kind = pages.kind[pfn];
    if (kind === PageKind.FREE) {
      const [head, order] = k.alloc.freeBlockOf(pfn)!; // skipped, collected later
      pfn = head + (1 << order);
      continue;
    }
    // Not on the LRU (kernel, CMA client): skipped. Anon with any extra reference: skipped,
    // never isolated (§2.4 table). File pages are isolated whatever their refcount.
    const isolate = kind === PageKind.FILE || (kind === PageKind.ANON && !pages.hasExtraRefs(pfn));
    pfn++;
    if (isolate) {
      list.push(pfn - 1);
      if (list.length >= COMPACT_CLUSTER_MAX) break;
    }
  }
  return pfn;
}

/**
 * reclaim_clean_pages_from_list(): clean, evictable page-cache pages are dropped instead of
 * migrated, unless a reference keeps them (§2.4).
 */
function reclaimCleanPages(k: Kernel, list: number[]): void {
  const { pages } = k.alloc;
  let keep = 0;
  for (const pfn of list) {
    const clean =
      pages.kind[pfn] === PageKind.FILE && !(pages.flags[pfn]! & (PG_DIRTY | PG_MLOCKED));
    if (clean && !pages.hasExtraRefs(pfn)) {
      const obj = k.rmap.ownerOf(pfn)!;
      const idx = k.rmap.indexOf(pfn);
      for (const m of [...obj.mappers]) m.unmapIndex(idx); // try_to_unmap (may_unmap = 1)
      obj.pages[idx] = -1;
      obj.nrResident--;
      k.alloc.freePages(pfn, 0);
      cleancachePut(k);
      k.charge(RECLAIM_PAGE_NS);
    } else {
      list[keep++] = pfn;
    }
  }
  list.length = keep;
}

/** __alloc_contig_migrate_range() (§2.4): 0, -EBUSY, -ENOMEM or -EINTR. */
function allocContigMigrateRange(k: Kernel, start: number, end: number): [number, number] {
  // 6.4: GFP_USER|__GFP_MOVABLE|__GFP_RETRY_MAYFAIL; 6.18: GFP_KERNEL|... (§2.4)
  const gfp =
    (features(k.version).contigGfpKernel ? GFP_KERNEL : GFP_USER) |
    __GFP_MOVABLE |
    __GFP_RETRY_MAYFAIL;
  const list: number[] = [];
  let pfn = start;
  let tries = 0;
  let ret = 0;
  let migrated = 0;
  while (pfn < end || list.length > 0) {
    if (k.fatalSignalPending()) {
      ret = -ERRNO.EINTR;
      break;
    }
    if (list.length === 0) {
      pfn = isolateMigratepagesRange(k, pfn, end, list);
      tries = 0;
    } else if (++tries === CONTIG_MIGRATE_TRIES) {
      ret = -ERRNO.EBUSY; // the rest of the range is not scanned
      break;
    }
    reclaimCleanPages(k, list);
    const before = list.length;
    ret = migratePages(k, list, gfp, 'contig_range');
    migrated += before - list.length;
    if (ret === -ERRNO.ENOMEM) break;
  }
  return [Math.min(ret, 0), migrated];
}

/** test_pages_isolated(): the first pfn that is not a free page (fin_pfn, §2.4). */
function testPagesIsolated(k: Kernel, start: number, end: number): number {
  let pfn = start;
  while (pfn < end) {
    const blk = k.alloc.freeBlockOf(pfn);
    if (!blk) break;
    pfn = blk[0] + (1 << blk[1]);
  }
  k.charge((Math.min(pfn, end) - start) * COLLECT_FREE_PAGE_NS);
  k.tracepoint('test_pages_isolated', { start_pfn: start, end_pfn: end, fin_pfn: pfn });
  return pfn;
}

/** alloc_contig_range(start, end, ACR_FLAGS_CMA): on success [start, end) belongs to the caller. */
export function allocContigRange(k: Kernel, start: number, end: number): ContigResult {
  const alloc = k.alloc;
  const pbStart = start >> PAGEBLOCK_ORDER;
  const pbEnd = (end + (1 << PAGEBLOCK_ORDER) - 1) >> PAGEBLOCK_ORDER;
  k.charge(CONTIG_ATTEMPT_NS + (pbEnd - pbStart) * ISOLATE_PAGEBLOCK_NS);
  let pb = pbStart;
  while (pb < pbEnd && alloc.isolatePageblock(pb)) pb++;
  const result: ContigResult = { ret: 0, finPfn: -1, migrated: 0 };
  if (pb < pbEnd) {
    result.ret = -ERRNO.EBUSY; // already isolated by someone else
  } else {
    // drain_all_pages(cc.zone) after start_isolate_page_range() (6.4 and 6.18): per-CPU pages
    // of the range go to the buddy, onto the isolated lists
    alloc.drainAllPages(alloc.zoneOf(start));
    const [ret, migrated] = allocContigMigrateRange(k, start, end);
    result.migrated = migrated;
    if (ret === 0 || ret === -ERRNO.EBUSY) {
      const blk = alloc.freeBlockOf(start); // find_large_buddy()
      const outerStart = blk ? blk[0] : start;
      result.finPfn = testPagesIsolated(k, outerStart, end);
      result.ret = result.finPfn < end ? -ERRNO.EBUSY : 0;
    } else {
      result.ret = ret;
    }
  }
  if (result.ret === 0) {
    alloc.takeFreeRange(start, end); // isolate_freepages_range
    alloc.pages.kind.fill(PageKind.CMA, start, end);
    alloc.pages.flags.fill(0, start, end);
  }
  for (let b = pbStart; b < pb; b++) alloc.unisolatePageblock(b);
  return result;
}
