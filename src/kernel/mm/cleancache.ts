// Cleancache on GCMA areas (§6 item 1): the free pages of a guaranteed CMA area hold copies of
// clean page-cache pages that were dropped. Apart from cma.ts, which page_isolation.ts uses.
import type { Kernel } from '../kernel.js';
import { PageKind, PG_CLEANCACHE } from './page.js';

/**
 * cleancache put: a clean page-cache page that is dropped keeps a copy in a free GCMA page, if
 * any area has one. Returns whether it was kept.
 */
export function cleancachePut(k: Kernel): boolean {
  const { pages } = k.alloc;
  for (const cma of k.cma) {
    if (!cma.gcma) continue;
    for (let i = 0; i < cma.count; i++) {
      const pfn = cma.basePfn + ((cma.cleancacheCursor + i) % cma.count);
      if (pages.kind[pfn] === PageKind.GCMA && !(pages.flags[pfn]! & PG_CLEANCACHE)) {
        pages.flags[pfn]! |= PG_CLEANCACHE;
        cma.cleancacheCursor = (pfn - cma.basePfn + 1) % cma.count;
        return true;
      }
    }
  }
  return false;
}
