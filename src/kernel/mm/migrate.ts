// migrate_pages() for order-0 folios (kernel-model.md §3.1–§3.3): a page with references beyond the
// expected count fails with -EAGAIN after all passes; a missing target page is -ENOMEM.
import { ERRNO } from '../config.js';
import { MIGRATE_FAIL_PASSES_NS, MIGRATE_PAGE_NS } from '../cost.js';
import type { Kernel } from '../kernel.js';

export type MigrateReason = 'contig_range' | 'longterm_pin';

/** migrate_folio_unmap + move_to_new_folio for one page: 0, -EAGAIN or -ENOMEM. */
function migrateFolio(k: Kernel, src: number, gfp: number): number {
  const pages = k.alloc.pages;
  if (pages.hasExtraRefs(src)) return -ERRNO.EAGAIN; // §3.2: pinned or referenced
  const dst = k.alloc.allocPages(0, gfp, pages.kind[src]!);
  if (dst < 0) return -ERRNO.ENOMEM;
  const obj = k.rmap.ownerOf(src)!;
  obj.pages[k.rmap.indexOf(src)] = dst;
  pages.copyContent(src, dst);
  k.alloc.freePages(src, 0);
  return 0;
}

/**
 * Migrate every page of `list` (pfns) to pages allocated with `gfp`. Migrated pages leave the
 * list; those that failed stay on it. Returns the number not migrated, or -ENOMEM.
 */
export function migratePages(
  k: Kernel,
  list: number[],
  gfp: number,
  reason: MigrateReason,
): number {
  let succeeded = 0;
  let failed = 0;
  let rc = 0;
  let keep = 0;
  for (let i = 0; i < list.length; i++) {
    const pfn = list[i]!;
    const r = rc < 0 ? -ERRNO.EAGAIN : migrateFolio(k, pfn, gfp);
    if (r === 0) {
      succeeded++;
      continue;
    }
    list[keep++] = pfn;
    if (rc < 0) continue; // after -ENOMEM the rest are put back uncounted
    failed++;
    if (r === -ERRNO.ENOMEM) rc = r;
  }
  list.length = keep;
  k.vm.pgmigrate_success += succeeded;
  k.vm.pgmigrate_fail += failed;
  k.charge(succeeded * MIGRATE_PAGE_NS + failed * MIGRATE_FAIL_PASSES_NS);
  k.tracepoint('mm_migrate_pages', { nr_succeeded: succeeded, nr_failed: failed, reason });
  return rc < 0 ? rc : keep;
}
