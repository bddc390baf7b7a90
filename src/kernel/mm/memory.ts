// Page faults: a user page is allocated and mapped into its object (spec §1.6: MOVABLE user
// allocations are CMA-eligible; under PF_MEMALLOC_PIN they are not).
import type { Kernel } from '../kernel.js';
import { GFP_HIGHUSER_MOVABLE, memallocPinGfp } from './gfp.js';
import { PageKind } from './page.js';
import { type MemObject, ObjKind } from './rmap.js';

/**
 * Fault in page `idx` of `obj` (do_anonymous_page / filemap_fault) if not resident. Returns its
 * pfn, or -1 when no page could be allocated (VM_FAULT_OOM).
 */
export function faultPage(k: Kernel, obj: MemObject, idx: number, memallocPin = false): number {
  const present = obj.pages[idx]!;
  if (present >= 0) return present;
  const gfp = memallocPin ? memallocPinGfp(GFP_HIGHUSER_MOVABLE) : GFP_HIGHUSER_MOVABLE;
  const kind = obj.kind === ObjKind.FILE ? PageKind.FILE : PageKind.ANON;
  const pfn = k.alloc.allocPages(0, gfp, kind);
  if (pfn < 0) return -1;
  const pages = k.alloc.pages;
  pages.owner[pfn] = obj.id;
  pages.index[pfn] = idx;
  pages.mapcount[pfn] = 1;
  obj.pages[idx] = pfn;
  obj.nrResident++;
  return pfn;
}

/** Unmap and free a resident page that nothing else references (zap_pte_range + put). */
export function releasePage(k: Kernel, obj: MemObject, idx: number): void {
  const pfn = obj.pages[idx]!;
  if (pfn < 0) return;
  obj.pages[idx] = -1;
  obj.nrResident--;
  k.alloc.freePages(pfn, 0);
}
