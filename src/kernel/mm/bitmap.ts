// Bit helpers on Uint32Array words: lib/bitmap.c semantics for the CMA bitmap (spec §2.2), and a
// hierarchical bitmap that finds the lowest set bit in O(levels) for the buddy free lists.

/** Index of the lowest set bit of a non-zero 32-bit word. */
export const ctz32 = (w: number): number => 31 - Math.clz32(w & -w);

export function testBit(map: Uint32Array, i: number): boolean {
  return ((map[i >>> 5]! >>> (i & 31)) & 1) !== 0;
}

/** find_next_bit(map, size, start) when `value` is 1, find_next_zero_bit when 0. */
export function findNextBit(map: Uint32Array, size: number, start: number, value: 0 | 1): number {
  if (start >= size) return size;
  const flip = value ? 0 : 0xffffffff;
  let w = start >>> 5;
  let word = ((map[w]! ^ flip) >>> (start & 31)) << (start & 31);
  const last = (size - 1) >>> 5;
  for (;;) {
    if (word !== 0) {
      const i = (w << 5) + ctz32(word);
      return Math.min(i, size);
    }
    if (++w > last) return size;
    word = map[w]! ^ flip;
  }
}

/** bitmap_set / bitmap_clear over [start, start+nr). */
export function setBits(map: Uint32Array, start: number, nr: number, value: boolean): void {
  let i = start;
  const end = start + nr;
  while (i < end) {
    const w = i >>> 5;
    const lo = i & 31;
    const hi = Math.min(32, lo + (end - i));
    const mask = hi - lo === 32 ? 0xffffffff : ((1 << (hi - lo)) - 1) << lo;
    map[w] = value ? map[w]! | mask : map[w]! & ~mask;
    i += hi - lo;
  }
}

/** bitmap_find_next_zero_area_off() (spec §2.2); a result >= size means "no window". */
export function bitmapFindNextZeroAreaOff(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  alignMask: number,
  alignOffset: number,
): number {
  for (;;) {
    let index = findNextBit(map, size, start, 0);
    index = ((index + alignOffset + alignMask) & ~alignMask) - alignOffset; // __ALIGN_MASK
    const end = index + nr;
    if (end > size) return end;
    const i = findNextBit(map, end, index, 1);
    if (i < end) {
      start = i + 1;
      continue;
    }
    return index;
  }
}

/** A set of small integers with O(levels) insert, delete, lowest and next-from queries. */
export class HierBitmap {
  private readonly levels: Uint32Array[] = [];

  constructor(readonly size: number) {
    let n = size;
    do {
      n = Math.max(1, Math.ceil(n / 32));
      this.levels.push(new Uint32Array(n));
    } while (n > 1);
  }

  has(i: number): boolean {
    return testBit(this.levels[0]!, i);
  }

  add(i: number): void {
    for (const level of this.levels) {
      const w = i >>> 5;
      const was = level[w]!;
      level[w] = was | (1 << (i & 31));
      if (was !== 0) return;
      i = w;
    }
  }

  delete(i: number): void {
    for (const level of this.levels) {
      const w = i >>> 5;
      const now = level[w]! & ~(1 << (i & 31));
      level[w] = now;
      if (now !== 0) return;
      i = w;
    }
  }

  /** The lowest member, or -1. */
  first(): number {
    const top = this.levels.length - 1;
    if (this.levels[top]![0] === 0) return -1;
    let i = 0;
    for (let l = top; l >= 0; l--) i = (i << 5) + ctz32(this.levels[l]![i]!);
    return i;
  }

  /** The lowest member >= from, or -1. */
  next(from: number): number {
    if (from >= this.size) return -1;
    let l = 0;
    let i = from;
    // climb until a word holds a set bit at or after position i
    for (;;) {
      const level = this.levels[l]!;
      const w = i >>> 5;
      if (w >= level.length) return -1;
      const word = (level[w]! >>> (i & 31)) << (i & 31);
      if (word !== 0) {
        i = (w << 5) + ctz32(word);
        break;
      }
      if (l === this.levels.length - 1) return -1;
      l++;
      i = w + 1;
    }
    // descend to level 0 taking the lowest set bit each time
    while (l > 0) {
      l--;
      i = (i << 5) + ctz32(this.levels[l]![i]!);
    }
    return i;
  }
}
