// get_user_pages / pin_user_pages with FOLL_GET, FOLL_PIN, FOLL_WRITE and FOLL_LONGTERM
// (kernel-model.md §4.1–§4.5, 6.18 mm/gup.c; 6.4 is equivalent but for the 6.5 file-backed refusal).
import { ERRNO, MT } from '../config.js';
import { features } from '../features.js';
import type { Kernel } from '../kernel.js';
import { KERN_ERR } from '../observe/printk.js';
import { __GFP_NOWARN, GFP_USER } from './gfp.js';
import { migratePages } from './migrate.js';
import type { Mm, Vma } from './mmap.js';
import { VM_IO, VM_PFNMAP, VM_WRITE } from './mmap.js';
import { NO_OWNER, PG_DIRTY } from './page.js';
import { ObjKind } from './rmap.js';

export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_PIN = 1 << 2;
export const FOLL_LONGTERM = 1 << 3;
export const FOLL_PCI_P2PDMA = 1 << 4;

/** The shared zero page: returned for read-only access to untouched anon memory, never pinned. */
export const ZERO_PAGE = -2;

/** __gup_longterm_locked() loops while migration reports -EAGAIN; the model caps it (§4.3). */
const LONGTERM_RETRY_CAP = 16;

/** is_valid_gup_args() (§4.1). */
function validGupArgs(flags: number): boolean {
  if ((flags & (FOLL_PIN | FOLL_GET)) === (FOLL_PIN | FOLL_GET)) return false;
  if (flags & FOLL_LONGTERM && !(flags & FOLL_PIN)) return false;
  return !(flags & FOLL_LONGTERM && flags & FOLL_PCI_P2PDMA);
}

/** folio_is_longterm_pinnable() (§4.4): not in a CMA or isolated pageblock, not ZONE_MOVABLE. */
export function isLongtermPinnable(k: Kernel, pfn: number): boolean {
  if (pfn === ZERO_PAGE) return true;
  const mt = k.alloc.effectiveMt(pfn);
  if (mt === MT.CMA || mt === MT.ISOLATE) return false;
  return k.alloc.zoneOf(pfn).name !== 'Movable';
}

/** try_grab_folio(): FOLL_PIN adds GUP_PIN_COUNTING_BIAS, FOLL_GET one reference (§4.2). */
function grab(k: Kernel, pfn: number, flags: number): void {
  if (pfn === ZERO_PAGE) return;
  const pages = k.alloc.pages;
  if (flags & FOLL_PIN) {
    pages.addPins(pfn, 1);
    k.vm.nr_foll_pin_acquired++;
  } else {
    pages.addGets(pfn, 1);
  }
}

/**
 * Drop a reference; the last one frees a page that no object owns any more (an anon page
 * munmapped while pinned, C27).
 */
function putPage(k: Kernel, pfn: number): void {
  const pages = k.alloc.pages;
  if (pages.slot[pfn] === NO_OWNER && pages.mapcount[pfn] === 0 && !pages.hasExtraRefs(pfn)) {
    k.alloc.freePages(pfn, 0);
  }
}

/** unpin_user_pages() (§4.2). */
export function unpinUserPages(k: Kernel, pfns: readonly number[]): void {
  const pages = k.alloc.pages;
  for (const pfn of pfns) {
    if (pfn === ZERO_PAGE) continue;
    pages.addPins(pfn, -1); // the long-term label goes with the holder (PinRegistry.remove)
    k.vm.nr_foll_pin_released++;
    putPage(k, pfn);
  }
}

/** put_page() for FOLL_GET references. */
export function putUserPages(k: Kernel, pfns: readonly number[]): void {
  for (const pfn of pfns) {
    if (pfn === ZERO_PAGE) continue;
    k.alloc.pages.addGets(pfn, -1);
    putPage(k, pfn);
  }
}

/** Release whatever `flags` took. */
export function releaseUserPages(k: Kernel, pfns: readonly number[], flags: number): void {
  if (flags & FOLL_PIN) unpinUserPages(k, pfns);
  else putUserPages(k, pfns);
}

/** gup_fast(): lockless; stops at the first page it cannot take without faulting (§4.3). */
const gupFast: Gup = (k, mm, start, n, flags, out) => {
  const end = start + n;
  for (let va = start; va < end; ) {
    const v = mm.findVma(va);
    // what the slow path refuses, the fast path leaves to it: pte_special (VM_IO, VM_PFNMAP), a
    // write to a read-only PTE, and (6.5+, gup_fast_folio_allowed()) a writable long-term pin of
    // a dirty-tracked file
    if (!v || checkVmaFlags(k, v, flags) !== 0) return va - start;
    // a clean dirty-tracked PTE is write-protected: the slow path's write fault dirties the page;
    // the fast path takes only pages already writable, i.e. dirty (§4.5)
    const clean = flags & FOLL_WRITE && v.ptes ? k.alloc.pages.flags : undefined;
    for (const stop = Math.min(end, v.end); va < stop; va++) {
      const pfn = v.pageAt(va);
      if (pfn < 0 || (clean && !(clean[pfn]! & PG_DIRTY))) return va - start;
      if (flags & FOLL_LONGTERM && !isLongtermPinnable(k, pfn)) return va - start;
      grab(k, pfn, flags);
      out.push(pfn);
    }
  }
  return n;
};

/** check_vma_flags() (§4.5): 0 or a negative errno. */
function checkVmaFlags(k: Kernel, v: Vma, flags: number): number {
  if (v.flags & (VM_IO | VM_PFNMAP)) return -ERRNO.EFAULT;
  if (flags & FOLL_WRITE && !(v.flags & VM_WRITE)) return -ERRNO.EFAULT;
  // 6.5+: writable long-term pins of a mapping that needs dirty tracking (§4.5)
  if (
    features(k.version).gupLongtermFileCheck &&
    flags & FOLL_LONGTERM &&
    flags & FOLL_WRITE &&
    v.needsDirtyTracking()
  ) {
    return -ERRNO.EFAULT;
  }
  return 0;
}

/** __get_user_pages_locked(): fault in and take each page; a partial count on a later error. */
const getUserPagesLocked: Gup = (k, mm, start, n, flags, out) => {
  const memallocPin = (flags & FOLL_LONGTERM) !== 0; // memalloc_pin_save()
  for (let i = 0; i < n; i++) {
    const va = start + i;
    const v = mm.findVma(va);
    const err = v ? checkVmaFlags(k, v, flags) : -ERRNO.EFAULT;
    if (err) return i || err;
    const vma = v!;
    let pfn = vma.pageAt(va);
    // a read fault of untouched anon memory maps the zero page (§4.2); a R/O long-term pin
    // unshares it into an exclusive anon page instead (gup_must_unshare, COW mapping; §4.3)
    const zeroPageOk = !(flags & (FOLL_WRITE | FOLL_LONGTERM));
    if (pfn < 0 && zeroPageOk && vma.obj.kind === ObjKind.ANON && !vma.inode) {
      pfn = ZERO_PAGE;
    } else if (pfn < 0 || (flags & FOLL_WRITE && vma.ptes)) {
      // FOLL_WRITE faults with FAULT_FLAG_WRITE: a shared file page becomes dirty (§4.5)
      pfn = mm.fault(vma, va, memallocPin, (flags & FOLL_WRITE) !== 0);
      if (pfn < 0) return i || -ERRNO.ENOMEM;
    }
    grab(k, pfn, flags);
    out.push(pfn);
  }
  return n;
};

/**
 * check_and_migrate_movable_pages() (§4.3): 0 if every page may stay pinned; otherwise unpin
 * all, migrate the unpinnable ones to UNMOVABLE non-CMA memory and return -EAGAIN, or -ENOMEM if
 * any of them could not move.
 */
function checkAndMigrateMovablePages(k: Kernel, pinned: number[]): number {
  const collected = [...new Set(pinned.filter((pfn) => !isLongtermPinnable(k, pfn)))];
  if (collected.length === 0) return 0;
  unpinUserPages(k, pinned);
  pinned.length = 0;
  const rc = migratePages(k, collected, GFP_USER | __GFP_NOWARN, 'longterm_pin');
  return rc === 0 ? -ERRNO.EAGAIN : -ERRNO.ENOMEM;
}

/** __gup_longterm_locked() (§4.3). */
const gupLongtermLocked: Gup = (k, mm, start, n, flags, out) => {
  if (!(flags & FOLL_LONGTERM)) return getUserPagesLocked(k, mm, start, n, flags, out);
  for (let round = 0; round < LONGTERM_RETRY_CAP; round++) {
    const pinned: number[] = [];
    const nr = getUserPagesLocked(k, mm, start, n, flags, pinned);
    if (nr <= 0) return nr;
    const rc = checkAndMigrateMovablePages(k, pinned);
    if (rc === 0) {
      out.push(...pinned);
      return nr;
    }
    if (rc !== -ERRNO.EAGAIN) return rc;
  }
  k.printk(
    KERN_ERR,
    'cmascope: __gup_longterm_locked still -EAGAIN after 16 rounds (kernel livelock)',
  );
  return -ERRNO.ENOMEM;
};

/** gup_fast_fallback(): the fast path, then the slow path for the rest (§4.3). */
const gupFastFallback: Gup = (k, mm, start, n, flags, out) => {
  if (!validGupArgs(flags)) return -ERRNO.EINVAL;
  const nr = gupFast(k, mm, start, n, flags, out);
  if (nr === n) return n;
  const ret = gupLongtermLocked(k, mm, start + nr, n - nr, flags, out);
  if (ret < 0) return nr || ret; // the fast path's partial count wins over the error (§4.3)
  return ret + nr;
};

/**
 * The GUP entry points. Pages taken are appended to `out`; each returns how many (possibly
 * fewer than n) or a negative errno. `gupFlags` are FOLL_WRITE / FOLL_LONGTERM.
 */
export type Gup = (
  k: Kernel,
  mm: Mm,
  start: number,
  n: number,
  gupFlags: number,
  out: number[],
) => number;

export const pinUserPagesFast: Gup = (k, mm, start, n, flags, out) =>
  gupFastFallback(k, mm, start, n, flags | FOLL_PIN, out);
export const getUserPagesFast: Gup = (k, mm, start, n, flags, out) =>
  gupFastFallback(k, mm, start, n, flags | FOLL_GET, out);
export const pinUserPages: Gup = (k, mm, start, n, flags, out) =>
  validGupArgs(flags | FOLL_PIN)
    ? gupLongtermLocked(k, mm, start, n, flags | FOLL_PIN, out)
    : -ERRNO.EINVAL;
