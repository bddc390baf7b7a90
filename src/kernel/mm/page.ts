// Per-PFN page state as a struct of typed arrays (kernel-model.md §1.1, §8.1 item 1): no object per page.
import { GUP_PIN_COUNTING_BIAS } from '../config.js';

/** Who owns a page. */
export enum PageKind {
  FREE = 0, // in the buddy allocator
  ANON = 1, // anonymous user page (LRU)
  FILE = 2, // page-cache page (LRU)
  KERNEL = 3, // unmovable kernel allocation: page tables, TEE shm pool, slab
  CMA = 4, // handed to a CMA client by cma_alloc / alloc_contig_range
  GCMA = 5, // a guaranteed-CMA page: free, or holding discardable clean cache (§6 item 1)
  PCP = 6, // free, on a per-CPU page list (policy pcp=on): not in the buddy, not NR_FREE_PAGES
}
export const PAGE_KIND_NAMES = ['free', 'anon', 'file', 'kernel', 'cma_client', 'gcma', 'pcp'];

/** Page flags (a subset of the kernel's). */
export const PG_MLOCKED = 1 << 0;
export const PG_DIRTY = 1 << 1;
/**
 * Model-only label: a registered long-term pin holder (PinRegistry, FOLL_LONGTERM) holds this
 * page. It follows PageArrays.longtermHolds(), which the registry alone moves; the kernel has
 * no such flag, only the pin count (docs/fidelity.md).
 */
export const PG_PIN_LONGTERM = 1 << 2;
export const PG_CLEANCACHE = 1 << 3; // a GCMA page holding a clean page-cache copy
/** Model-only: the page has pins or transient gets, counted in PageArrays' sparse maps. */
export const PG_REFS = 1 << 4;

/** No rmap owner (the rmap slot of an unowned page). */
export const NO_OWNER = 0;

/**
 * Only `kind` is kept up to date for free pages; the other fields are meaningful while a page is
 * allocated: the allocator resets `flags`, and whoever maps the page sets mapcount and slot.
 */
export class PageArrays {
  /** PageKind */
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  /** _mapcount + 1: page-table mappings */
  readonly mapcount: Uint8Array;
  /**
   * FOLL_PIN references (each GUP_PIN_COUNTING_BIAS in _refcount, §3.2) and transient FOLL_GET /
   * I/O references (§3.4), by pfn. Few pages have any, so they are kept sparse; a page has entries
   * exactly while PG_REFS is set, so hot paths test the flag alone.
   */
  private readonly pins = new Map<number, number>();
  private readonly gets = new Map<number, number>();
  /**
   * Long-term pin holders by pfn: how many registered FOLL_LONGTERM holders (PinRegistry) list
   * the page; PG_PIN_LONGTERM is set exactly while a page has one. Sparse like the pins.
   */
  private readonly longterm = new Map<number, number>();
  /**
   * Content identity and reverse map: the owning object (mapping) and the index in it, as one
   * rmap slot (rmap.ts: Rmap.ownerOf, indexOf), or NO_OWNER.
   */
  readonly slot: Uint32Array;

  constructor(readonly nrPages: number) {
    this.kind = new Uint8Array(nrPages);
    this.flags = new Uint8Array(nrPages);
    this.mapcount = new Uint8Array(nrPages);
    this.slot = new Uint32Array(nrPages);
  }

  /**
   * folio_ref_count() of an order-0 LRU folio: mappings + page-cache slot + pins + gets
   * (§1.1, §3.2).
   */
  refcount(i: number): number {
    const cache = this.kind[i] === PageKind.FILE ? 1 : 0;
    return this.mapcount[i]! + cache + this.pincount(i) * GUP_PIN_COUNTING_BIAS + this.getcount(i);
  }

  /** References beyond folio_expected_ref_count(): pins and transient gets (§1.1). */
  hasExtraRefs(i: number): boolean {
    return (this.flags[i]! & PG_REFS) !== 0;
  }

  /** FOLL_PIN references on page `i` (§3.2). */
  pincount(i: number): number {
    return this.pins.get(i) ?? 0;
  }

  /** Transient FOLL_GET / I/O references on page `i` (§3.4). */
  getcount(i: number): number {
    return this.gets.get(i) ?? 0;
  }

  /** Add `n` (negative: drop) pins to page `i`; returns the new pin count. */
  addPins(i: number, n: number): number {
    return this.addRefs(this.pins, i, n, 'pin');
  }

  /** Add `n` (negative: drop) transient references to page `i`; returns the new count. */
  addGets(i: number, n: number): number {
    return this.addRefs(this.gets, i, n, 'get');
  }

  /** Registered long-term pin holders of page `i` (PG_PIN_LONGTERM is set iff this is > 0). */
  longtermHolds(i: number): number {
    return this.longterm.get(i) ?? 0;
  }

  /**
   * Add `n` (negative: drop) long-term holds to page `i` and set or clear PG_PIN_LONGTERM to
   * match; returns the new count. Only PinRegistry calls this, as holders come and go.
   */
  addLongtermHolds(i: number, n: number): number {
    const count = bump(this.longterm, i, n, 'long-term hold');
    if (count > 0) this.flags[i]! |= PG_PIN_LONGTERM;
    else this.flags[i]! &= ~PG_PIN_LONGTERM;
    return count;
  }

  /** Pages with long-term holds, ascending. */
  longtermHeld(): number[] {
    return [...this.longterm.keys()].sort((a, b) => a - b);
  }

  /** Pages holding pins or gets, ascending. */
  referenced(): number[] {
    const out = [...this.pins.keys()];
    for (const i of this.gets.keys()) if (!this.pins.has(i)) out.push(i);
    return out.sort((a, b) => a - b);
  }

  private addRefs(map: Map<number, number>, i: number, n: number, what: string): number {
    const count = bump(map, i, n, what);
    if (this.pins.has(i) || this.gets.has(i)) this.flags[i]! |= PG_REFS;
    else this.flags[i]! &= ~PG_REFS;
    return count;
  }

  /** Move everything that travels with the content from page `from` to page `to` (§3.1). */
  copyContent(from: number, to: number): void {
    this.kind[to] = this.kind[from]!;
    this.flags[to] = this.flags[from]! & ~(PG_PIN_LONGTERM | PG_REFS); // references stay (§3.2)
    this.mapcount[to] = this.mapcount[from]!;
    this.slot[to] = this.slot[from]!;
  }
}

/** Add `n` to the sparse count of page `i` in `map` (dropping zeros); returns the new count. */
function bump(map: Map<number, number>, i: number, n: number, what: string): number {
  const count = (map.get(i) ?? 0) + n;
  if (count < 0) throw new Error(`pfn ${i}: ${what} count would go negative`);
  if (count > 0) map.set(i, count);
  else map.delete(i);
  return count;
}
