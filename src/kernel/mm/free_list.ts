// The kernel's free lists (placement=kernel): `zone->free_area[order].free_list[migratetype]` as
// doubly linked lists threaded through the free blocks' heads (mm/page_alloc.c, 6.4 and 6.18),
// and each head's PageBuddy() / buddy_order(). Per pfn its next and prev side by side (one cache
// line for both) and its order; a first/last per list; all typed arrays: no object per block, no
// allocation per operation. -1 is the kernel's empty list / list end.

export class FreeLists {
  /** next of pfn at 2 * pfn, prev at 2 * pfn + 1 */
  private readonly link: Int32Array;
  /** buddy_order() + 1 of a free block's head (PageBuddy), 0 for every other page */
  private readonly order: Uint8Array;
  private readonly first: Int32Array;
  private readonly last: Int32Array;

  constructor(nrPfns: number, nrLists: number) {
    this.link = new Int32Array(2 * nrPfns);
    this.order = new Uint8Array(nrPfns);
    this.first = new Int32Array(nrLists).fill(-1);
    this.last = new Int32Array(nrLists).fill(-1);
  }

  /** page_is_buddy() for this order: pfn heads a free block of `order`. */
  isHead(pfn: number, order: number): boolean {
    return this.order[pfn] === order + 1;
  }

  /** buddy_order() of a free block's head, or -1 when pfn heads none (!PageBuddy). */
  orderOf(pfn: number): number {
    return this.order[pfn]! - 1;
  }

  /** The block at the head of list l, or -1 (get_page_from_free_area: list_first_entry). */
  head(l: number): number {
    return this.first[l]!;
  }

  /** The block after pfn on its list, or -1. */
  after(pfn: number): number {
    return this.link[2 * pfn]!;
  }

  /** The block at the tail of list l, or -1. */
  tail(l: number): number {
    return this.last[l]!;
  }

  /** The block before pfn on its list, or -1. */
  before(pfn: number): number {
    return this.link[2 * pfn + 1]!;
  }

  /**
   * list_add() (head) or list_add_tail() (tail) of pfn, a free block of `order`, to list l
   * (__add_to_free_list: set_buddy_order); true when l was empty.
   */
  add(l: number, pfn: number, order: number, tail: boolean): boolean {
    const { link } = this;
    this.order[pfn] = order + 1;
    const f = this.first[l]!;
    if (f < 0) {
      this.first[l] = pfn;
      this.last[l] = pfn;
      link[2 * pfn] = -1;
      link[2 * pfn + 1] = -1;
      return true;
    }
    if (tail) {
      const t = this.last[l]!;
      link[2 * t] = pfn;
      link[2 * pfn] = -1;
      link[2 * pfn + 1] = t;
      this.last[l] = pfn;
    } else {
      link[2 * f + 1] = pfn;
      link[2 * pfn] = f;
      link[2 * pfn + 1] = -1;
      this.first[l] = pfn;
    }
    return false;
  }

  /**
   * The head of list l taken off it (list_first_entry + list_del), or -1 when l is empty: del() of
   * the head without its general case, for the per-CPU lists' hot path.
   */
  shift(l: number): number {
    const pfn = this.first[l]!;
    if (pfn < 0) return -1;
    const { link } = this;
    this.order[pfn] = 0;
    const n = link[2 * pfn]!;
    this.first[l] = n;
    if (n < 0) this.last[l] = -1;
    else link[2 * n + 1] = -1;
    return pfn;
  }

  /** list_del() of pfn from list l (__del_page_from_free_list: __ClearPageBuddy); true when l is now empty. */
  del(l: number, pfn: number): boolean {
    const { link } = this;
    this.order[pfn] = 0;
    const n = link[2 * pfn]!;
    const p = link[2 * pfn + 1]!;
    if (p < 0) this.first[l] = n;
    else link[2 * p] = n;
    if (n < 0) this.last[l] = p;
    else link[2 * n + 1] = p;
    return n < 0 && p < 0;
  }
}
