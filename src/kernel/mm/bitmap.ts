// Bit helpers on Uint32Array words: lib/bitmap.c semantics for the CMA bitmap (kernel-model.md §2.2), and a
// hierarchical bitmap that finds the lowest set bit in O(levels) for the buddy free lists.

/** Index of the lowest set bit of a non-zero 32-bit word. */
export const ctz32 = (w: number): number => 31 - Math.clz32(w & -w);

/** hweight32(). */
export function popcount32(w: number): number {
  w -= (w >>> 1) & 0x55555555;
  w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
  return (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Set bits in [lo, hi) (bitmap_weight of a range). */
export function countBits(map: Uint32Array, lo: number, hi: number): number {
  let n = 0;
  for (let i = findNextBit(map, hi, lo, 1); i < hi; i = findNextBit(map, hi, i + 1, 1)) n++;
  return n;
}

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

/** bitmap_find_next_zero_area_off() (kernel-model.md §2.2); a result >= size means "no window". */
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

/** Set bit i of the level that starts at word `base`; true when its word was zero. */
function setIn(bits: Uint32Array, base: number, i: number): boolean {
  const w = base + (i >>> 5);
  const was = bits[w]!;
  bits[w] = was | (1 << (i & 31));
  return was === 0;
}

/** Clear bit i of the level that starts at word `base`; true when its word is now zero. */
function clearIn(bits: Uint32Array, base: number, i: number): boolean {
  const w = base + (i >>> 5);
  const now = bits[w]! & ~(1 << (i & 31));
  bits[w] = now;
  return now === 0;
}

/** HierBitmap's levels: enough for 32^5 members (a free list of a 4 TiB machine). */
const LEVELS = 5;

/**
 * A set of integers below 32^5 with O(1) insert, delete and lowest, for the buddy free lists:
 * level 0 has a bit per member, each level above a bit per non-zero word of the one below, all in
 * one array. The levels are fixed and the hot operations unrolled, so that V8 inlines them.
 */
export class HierBitmap {
  private readonly bits: Uint32Array;
  /** the first word of each level, level 0 first */
  private readonly base: Int32Array;
  private readonly b1: number;
  private readonly b2: number;
  private readonly b3: number;
  private readonly b4: number;

  constructor(readonly size: number) {
    if (size > 32 ** LEVELS) throw new RangeError(`HierBitmap of ${size} members: at most 32^5`);
    this.base = new Int32Array(LEVELS);
    let words = 0;
    let n = size;
    for (let l = 0; l < LEVELS; l++) {
      n = Math.max(1, Math.ceil(n / 32));
      this.base[l] = words;
      words += n;
    }
    this.bits = new Uint32Array(words);
    this.b1 = this.base[1]!;
    this.b2 = this.base[2]!;
    this.b3 = this.base[3]!;
    this.b4 = this.base[4]!;
  }

  has(i: number): boolean {
    return ((this.bits[i >>> 5]! >>> (i & 31)) & 1) !== 0;
  }

  /** Add i; true when the set was empty. */
  add(i: number): boolean {
    const { bits } = this;
    return (
      setIn(bits, 0, i) &&
      setIn(bits, this.b1, i >>> 5) &&
      setIn(bits, this.b2, i >>> 10) &&
      setIn(bits, this.b3, i >>> 15) &&
      setIn(bits, this.b4, i >>> 20)
    );
  }

  /** Delete i; true when the set is now empty. */
  delete(i: number): boolean {
    const { bits } = this;
    return (
      clearIn(bits, 0, i) &&
      clearIn(bits, this.b1, i >>> 5) &&
      clearIn(bits, this.b2, i >>> 10) &&
      clearIn(bits, this.b3, i >>> 15) &&
      clearIn(bits, this.b4, i >>> 20)
    );
  }

  /** The lowest member, or -1. */
  first(): number {
    const { bits } = this;
    const top = bits[this.b4]!;
    if (top === 0) return -1;
    let i = ctz32(top);
    i = (i << 5) + ctz32(bits[this.b3 + i]!);
    i = (i << 5) + ctz32(bits[this.b2 + i]!);
    i = (i << 5) + ctz32(bits[this.b1 + i]!);
    return (i << 5) + ctz32(bits[i]!);
  }

  /** The lowest member >= from, or -1. */
  next(from: number): number {
    if (from >= this.size) return -1;
    const { bits, base } = this;
    let l = 0;
    let i = from;
    // climb until a word holds a set bit at or after position i
    for (;;) {
      const w = i >>> 5;
      const end = l === LEVELS - 1 ? 1 : base[l + 1]! - base[l]!;
      if (w >= end) return -1;
      const word = (bits[base[l]! + w]! >>> (i & 31)) << (i & 31);
      if (word !== 0) {
        i = (w << 5) + ctz32(word);
        break;
      }
      if (l === LEVELS - 1) return -1;
      l++;
      i = w + 1;
    }
    // descend to level 0 taking the lowest set bit each time
    while (l > 0) {
      l--;
      i = (i << 5) + ctz32(bits[base[l]! + i]!);
    }
    return i;
  }
}
