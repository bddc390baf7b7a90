// Per-PFN page state as a struct of typed arrays (spec §1.1, §8.1 item 1): no object per page.
import { GUP_PIN_COUNTING_BIAS } from '../config.js';

/** Who owns a page. */
export enum PageKind {
  FREE = 0, // in the buddy allocator
  ANON = 1, // anonymous user page (LRU)
  FILE = 2, // page-cache page (LRU)
  KERNEL = 3, // unmovable kernel allocation: page tables, TEE shm pool, slab
  CMA = 4, // handed to a CMA client by cma_alloc / alloc_contig_range
  GCMA = 5, // a guaranteed-CMA page: free, or holding discardable clean cache (§6 item 1)
}
export const PAGE_KIND_NAMES = ['free', 'anon', 'file', 'kernel', 'cma_client', 'gcma'];

/** Page flags (a subset of the kernel's). */
export const PG_MLOCKED = 1 << 0;
export const PG_DIRTY = 1 << 1;
export const PG_PIN_LONGTERM = 1 << 2; // a long-term pin holds this page (for views and blame)
export const PG_CLEANCACHE = 1 << 3; // a GCMA page holding a clean page-cache copy

/** No rmap owner. */
export const NO_OWNER = 0;

/**
 * Only `kind` is kept up to date for free pages; the other fields are meaningful while a page is
 * allocated: the allocator resets `flags`, and whoever maps the page sets mapcount, owner, index.
 */
export class PageArrays {
  /** PageKind */
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  /** _mapcount + 1: page-table mappings */
  readonly mapcount: Uint8Array;
  /** FOLL_PIN references; each is GUP_PIN_COUNTING_BIAS in _refcount (§3.2) */
  readonly pincount: Uint16Array;
  /** transient FOLL_GET / I/O references (§3.4) */
  readonly getcount: Uint8Array;
  /** content identity and reverse map: the owning object (mapping) and index in it */
  readonly owner: Uint16Array;
  readonly index: Int32Array;

  constructor(readonly nrPages: number) {
    this.kind = new Uint8Array(nrPages);
    this.flags = new Uint8Array(nrPages);
    this.mapcount = new Uint8Array(nrPages);
    this.pincount = new Uint16Array(nrPages);
    this.getcount = new Uint8Array(nrPages);
    this.owner = new Uint16Array(nrPages);
    this.index = new Int32Array(nrPages);
  }

  /**
   * folio_ref_count() of an order-0 LRU folio: mappings + page-cache slot + pins + gets
   * (§1.1, §3.2).
   */
  refcount(i: number): number {
    const cache = this.kind[i] === PageKind.FILE ? 1 : 0;
    return (
      this.mapcount[i]! + cache + this.pincount[i]! * GUP_PIN_COUNTING_BIAS + this.getcount[i]!
    );
  }

  /** References beyond folio_expected_ref_count(): pins and transient gets (§1.1). */
  hasExtraRefs(i: number): boolean {
    return this.pincount[i]! + this.getcount[i]! > 0;
  }

  /** Move everything that travels with the content from page `from` to page `to` (§3.1). */
  copyContent(from: number, to: number): void {
    this.kind[to] = this.kind[from]!;
    this.flags[to] = this.flags[from]! & ~PG_PIN_LONGTERM;
    this.mapcount[to] = this.mapcount[from]!;
    this.owner[to] = this.owner[from]!;
    this.index[to] = this.index[from]!;
  }
}
