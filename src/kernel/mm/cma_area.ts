// struct cma (mm/cma.h): a CMA area, its allocation bitmap, available_count and sysfs counters
// (kernel-model.md §2.1, §2.2, §2.6). cma.ts allocates from it.
import { findNextBit, setBits } from './bitmap.js';

export class CmaArea {
  readonly bitmap: Uint32Array;
  /** 6.15+: pages whose bitmap bits are clear (§2.2) */
  availableCount: number;
  // sysfs counters, in pages (§2.6)
  allocPagesSuccess = 0;
  allocPagesFail = 0;
  releasePagesSuccess = 0;
  /** GCMA: clean-cache pages dropped to make room for cma_alloc */
  cleancacheEvictions = 0;
  /** GCMA: where the next clean-cache page is looked for */
  cleancacheCursor = 0;
  /** debugfs `alloc` allocations, newest last: [pfn, count] (§2.6) */
  readonly debugfsMem: [number, number][] = [];

  constructor(
    readonly id: number,
    readonly name: string,
    readonly basePfn: number,
    readonly count: number,
    readonly orderPerBit: number,
    /** guaranteed CMA: lends pages to clean cache only (§6 item 1) */
    readonly gcma = false,
  ) {
    this.bitmap = new Uint32Array(((count >> orderPerBit) + 31) >>> 5);
    this.availableCount = count;
  }

  /** cma_bitmap_maxno() */
  get maxno(): number {
    return this.count >> this.orderPerBit;
  }

  /** cma_bitmap_aligned_mask() */
  alignMask(align: number): number {
    return align <= this.orderPerBit ? 0 : (1 << (align - this.orderPerBit)) - 1;
  }

  /** cma_bitmap_aligned_offset() */
  alignOffset(align: number): number {
    return (this.basePfn & ((1 << align) - 1)) >> this.orderPerBit;
  }

  /** cma_bitmap_pages_to_bits() */
  pagesToBits(pages: number): number {
    const unit = 1 << this.orderPerBit;
    return Math.ceil(pages / unit);
  }

  contains(pfn: number): boolean {
    return pfn >= this.basePfn && pfn < this.basePfn + this.count;
  }

  /** debugfs `used`: 6.4 bitmap_weight << order_per_bit; 6.18 count - available_count. */
  used(): number {
    return this.count - this.availableCount;
  }

  /** debugfs `maxchunk`: the longest clear run of the bitmap, in pages. */
  maxchunk(): number {
    return this.freeRanges().reduce((m, [, pages]) => Math.max(m, pages), 0);
  }

  /** Clear runs of the bitmap as [offset in pages, pages]: cma_debug_show_areas. */
  freeRanges(): [number, number][] {
    const out: [number, number][] = [];
    const n = this.maxno;
    for (let start = 0; ; ) {
      const zero = findNextBit(this.bitmap, n, start, 0);
      if (zero >= n) break;
      const set = findNextBit(this.bitmap, n, zero, 1);
      out.push([zero << this.orderPerBit, (set - zero) << this.orderPerBit]);
      start = set;
    }
    return out;
  }

  /** cma_clear_bitmap() / bitmap_set() with available_count. */
  markRange(pfn: number, count: number, used: boolean): void {
    setBits(this.bitmap, (pfn - this.basePfn) >> this.orderPerBit, this.pagesToBits(count), used);
    this.availableCount += used ? -count : count;
  }
}
