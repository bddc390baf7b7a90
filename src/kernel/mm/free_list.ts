// The kernel's free lists (placement=kernel): `zone->free_area[order].free_list[migratetype]` as
// doubly linked lists threaded through the free blocks' heads (mm/page_alloc.c, 6.4 and 6.18),
// and each head's PageBuddy() / buddy_order(). Per pfn its next and prev side by side (one cache
// line for both), per list its first and last side by side; all typed arrays: no object per
// block, no allocation per operation. -1 is the kernel's empty list / list end.

/**
 * page->lru of every page: next of pfn at 2 * pfn, prev at 2 * pfn + 1. A free page is on one
 * list at a time, a free list or a per-CPU list, so the two share it, as buddy_list and pcp_list
 * share the page's lru in the kernel.
 */
export const pageLru = (nrPfns: number): Int32Array => new Int32Array(2 * nrPfns);

/** Lists of pfns linked through the pages' lru (struct list_head in struct page). */
export class PfnLists {
  /** first of list l at 2 * l, last at 2 * l + 1 */
  private readonly ends: Int32Array;

  constructor(
    /** pageLru() */
    private readonly link: Int32Array,
    nrLists: number,
  ) {
    this.ends = new Int32Array(2 * nrLists).fill(-1);
  }

  /** The block at the head of list l, or -1 (list_first_entry_or_null). */
  head(l: number): number {
    return this.ends[2 * l]!;
  }

  /** The block at the tail of list l, or -1. */
  tail(l: number): number {
    return this.ends[2 * l + 1]!;
  }

  /** The block after pfn on its list, or -1. */
  after(pfn: number): number {
    return this.link[2 * pfn]!;
  }

  /** The block before pfn on its list, or -1. */
  before(pfn: number): number {
    return this.link[2 * pfn + 1]!;
  }

  /** list_add() (head) or list_add_tail() (tail) of pfn to list l; true when l was empty. */
  push(l: number, pfn: number, tail: boolean): boolean {
    const { link, ends } = this;
    const f = ends[2 * l]!;
    if (f < 0) {
      ends[2 * l] = pfn;
      ends[2 * l + 1] = pfn;
      link[2 * pfn] = -1;
      link[2 * pfn + 1] = -1;
      return true;
    }
    if (tail) {
      const t = ends[2 * l + 1]!;
      link[2 * t] = pfn;
      link[2 * pfn] = -1;
      link[2 * pfn + 1] = t;
      ends[2 * l + 1] = pfn;
    } else {
      link[2 * f + 1] = pfn;
      link[2 * pfn] = f;
      link[2 * pfn + 1] = -1;
      ends[2 * l] = pfn;
    }
    return false;
  }

  /**
   * The head of list l taken off it (list_first_entry + list_del), or -1 when l is empty: remove()
   * of the head without its general case, for the per-CPU lists' hot path.
   */
  shift(l: number): number {
    const { link, ends } = this;
    const pfn = ends[2 * l]!;
    if (pfn < 0) return -1;
    const n = link[2 * pfn]!;
    ends[2 * l] = n;
    if (n < 0) ends[2 * l + 1] = -1;
    else link[2 * n + 1] = -1;
    return pfn;
  }

  /** list_del() of pfn from list l; true when l is now empty. */
  remove(l: number, pfn: number): boolean {
    const { link, ends } = this;
    const n = link[2 * pfn]!;
    const p = link[2 * pfn + 1]!;
    if (p < 0) ends[2 * l] = n;
    else link[2 * p] = n;
    if (n < 0) ends[2 * l + 1] = p;
    else link[2 * n + 1] = p;
    return n < 0 && p < 0;
  }
}

/** The buddy's free lists: the links, and each free block head's order (PageBuddy). */
export class FreeLists extends PfnLists {
  /** buddy_order() + 1 of a free block's head (PageBuddy), 0 for every other page */
  private readonly order: Uint8Array;

  constructor(lru: Int32Array, nrLists: number) {
    super(lru, nrLists);
    this.order = new Uint8Array(lru.length >> 1);
  }

  /** page_is_buddy() for this order: pfn heads a free block of `order`. */
  isHead(pfn: number, order: number): boolean {
    return this.order[pfn] === order + 1;
  }

  /** buddy_order() of a free block's head, or -1 when pfn heads none (!PageBuddy). */
  orderOf(pfn: number): number {
    return this.order[pfn]! - 1;
  }

  /**
   * __add_to_free_list(): set_buddy_order() and list_add() / list_add_tail() of pfn, a free block
   * of `order`, to list l; true when l was empty.
   */
  add(l: number, pfn: number, order: number, tail: boolean): boolean {
    this.order[pfn] = order + 1;
    return this.push(l, pfn, tail);
  }

  /** __del_page_from_free_list(): list_del() and __ClearPageBuddy; true when l is now empty. */
  del(l: number, pfn: number): boolean {
    this.order[pfn] = 0;
    return this.remove(l, pfn);
  }
}
