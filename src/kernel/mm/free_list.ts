// The kernel's free lists (placement=kernel): `zone->free_area[order].free_list[migratetype]` as
// doubly linked lists threaded through the free blocks' heads (mm/page_alloc.c, 6.4 and 6.18).
// One prev/next slot per pfn and a first/last per list, in typed arrays: no object per block, no
// allocation per operation. -1 is the kernel's empty list / list end.

export class FreeLists {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly first: Int32Array;
  private readonly last: Int32Array;

  constructor(nrPfns: number, nrLists: number) {
    this.next = new Int32Array(nrPfns);
    this.prev = new Int32Array(nrPfns);
    this.first = new Int32Array(nrLists).fill(-1);
    this.last = new Int32Array(nrLists).fill(-1);
  }

  /** The block at the head of list l, or -1 (get_page_from_free_area: list_first_entry). */
  head(l: number): number {
    return this.first[l]!;
  }

  /** The block after pfn on its list, or -1. */
  after(pfn: number): number {
    return this.next[pfn]!;
  }

  /** The block at the tail of list l, or -1. */
  tail(l: number): number {
    return this.last[l]!;
  }

  /** The block before pfn on its list, or -1. */
  before(pfn: number): number {
    return this.prev[pfn]!;
  }

  /** list_add() (head) or list_add_tail() (tail) of pfn to list l; true when l was empty. */
  add(l: number, pfn: number, tail: boolean): boolean {
    const { next, prev } = this;
    const f = this.first[l]!;
    if (f < 0) {
      this.first[l] = pfn;
      this.last[l] = pfn;
      next[pfn] = -1;
      prev[pfn] = -1;
      return true;
    }
    if (tail) {
      const t = this.last[l]!;
      next[t] = pfn;
      prev[pfn] = t;
      next[pfn] = -1;
      this.last[l] = pfn;
    } else {
      prev[f] = pfn;
      next[pfn] = f;
      prev[pfn] = -1;
      this.first[l] = pfn;
    }
    return false;
  }

  /** list_del() of pfn from list l; true when l is now empty. */
  del(l: number, pfn: number): boolean {
    const { next, prev } = this;
    const n = next[pfn]!;
    const p = prev[pfn]!;
    if (p < 0) this.first[l] = n;
    else next[p] = n;
    if (n < 0) this.last[l] = p;
    else prev[n] = p;
    return n < 0 && p < 0;
  }
}
