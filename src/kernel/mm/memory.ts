// Page faults: a user page is allocated into its object (kernel-model.md §1.6: MOVABLE user allocations are
// CMA-eligible; under PF_MEMALLOC_PIN they are not).
import { GFP_HIGHUSER_MOVABLE, memallocPinGfp } from './gfp.js';
import { PageKind, PG_DIRTY } from './page.js';
import type { PageAlloc } from './page_alloc.js';
import { type MemObject, ObjKind, type Rmap } from './rmap.js';

/** What faults need of the machine (the Kernel is one): its page allocator and reverse map. */
export interface Memory {
  readonly alloc: PageAlloc;
  readonly rmap: Rmap;
}

/**
 * Make page `idx` of `obj` resident (do_anonymous_page, or filemap_fault's page-cache fill)
 * without mapping it. Returns its pfn, or -1 when no page could be allocated (VM_FAULT_OOM).
 * `swapBacked` shmem/memfd pages are never dropped as clean cache.
 */
export function populatePage(
  k: Memory,
  obj: MemObject,
  idx: number,
  memallocPin: boolean,
  swapBacked = false,
): number {
  const present = obj.pages[idx]!;
  if (present >= 0) return present;
  const gfp = memallocPin ? memallocPinGfp(GFP_HIGHUSER_MOVABLE) : GFP_HIGHUSER_MOVABLE;
  const kind = obj.kind === ObjKind.FILE ? PageKind.FILE : PageKind.ANON;
  const pfn = k.alloc.allocPages(0, gfp, kind);
  if (pfn < 0) return -1;
  const pages = k.alloc.pages;
  k.rmap.setOwner(pfn, obj, idx);
  pages.mapcount[pfn] = 0;
  if (swapBacked) pages.flags[pfn]! |= PG_DIRTY;
  obj.pages[idx] = pfn;
  obj.nrResident++;
  return pfn;
}

/** Fault in and map page `idx` of an anon object that has one mapping (tests, the summary). */
export function faultPage(k: Memory, obj: MemObject, idx: number, memallocPin = false): number {
  const present = obj.pages[idx]!;
  if (present >= 0) return present;
  const pfn = populatePage(k, obj, idx, memallocPin);
  if (pfn >= 0) k.alloc.pages.mapcount[pfn] = 1;
  return pfn;
}

/** Unmap and free a resident page that nothing else references (zap_pte_range + put). */
export function releasePage(k: Memory, obj: MemObject, idx: number): void {
  const pfn = obj.pages[idx]!;
  if (pfn < 0) return;
  obj.pages[idx] = -1;
  obj.nrResident--;
  k.alloc.freePages(pfn, 0);
}

/**
 * Drop a reference to an object; the last one frees its pages, except those still pinned or
 * referenced, which live on unowned until their last put (§5.3, C27).
 */
export function putObject(k: Memory, obj: MemObject): void {
  if (--obj.users > 0) return;
  const pages = k.alloc.pages;
  for (let i = 0; i < obj.pages.length; i++) {
    const pfn = obj.pages[i]!;
    if (pfn < 0) continue;
    obj.pages[i] = -1;
    if (pages.hasExtraRefs(pfn)) k.rmap.clearOwner(pfn);
    else k.alloc.freePages(pfn, 0);
  }
  obj.nrResident = 0;
  k.rmap.destroy(obj);
}
