// Deterministic pseudo-random numbers: xoshiro128** generators in independent named streams.

const TWO_32 = 2 ** 32;
const GOLDEN = 0x9e3779b9;

/** The splitmix32 output function (murmur3's fmix32): a bijection on 32-bit values. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** 32-bit FNV-1a over the UTF-16 code units of s, low byte first. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), 0x01000193);
    h = Math.imul(h ^ (c >>> 8), 0x01000193);
  }
  return h >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** xoshiro128** (Blackman & Vigna), on 32-bit integer arithmetic. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * Seeds the state with four splitmix32 outputs of `key`. They come from four distinct
   * inputs of a bijection, so at most one is zero and the state is never all zero.
   */
  constructor(key: number) {
    this.s0 = mix32((key + GOLDEN) | 0);
    this.s1 = mix32((key + 2 * GOLDEN) | 0);
    this.s2 = mix32((key + 3 * GOLDEN) | 0);
    this.s3 = mix32((key + 4 * GOLDEN) | 0);
  }

  /** Uniform integer in [0, 2^32). */
  u32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    this.s0 = s0 ^ s3;
    this.s1 = s1 ^ s2;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = rotl(s3, 11);
    return result;
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  float(): number {
    return this.u32() / TWO_32;
  }

  /** Uniform integer in [lo, hiExclusive); the range may hold at most 2^32 values. */
  int(lo: number, hiExclusive: number): number {
    const range = hiExclusive - lo;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hiExclusive) || range < 1) {
      throw new RangeError(`Rng.int(${lo}, ${hiExclusive}): expected integers with lo < hi`);
    }
    if (range > TWO_32) {
      throw new RangeError(`Rng.int(${lo}, ${hiExclusive}): range larger than 2^32`);
    }
    // Reject the top 2^32 mod range values so that every residue is equally likely.
    const limit = TWO_32 - (TWO_32 % range);
    for (;;) {
      const x = this.u32();
      if (x < limit) return lo + (x % range);
    }
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('Rng.pick: empty array');
    return xs[this.int(0, xs.length)] as T;
  }
}

/**
 * Named generators derived from one seed. A stream's sequence depends only on
 * (seed, name), never on which other streams exist or the order they were created in.
 */
export class RngStreams {
  private readonly streams = new Map<string, Rng>();
  private readonly seedKey: number;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`invalid seed ${seed}: expected a non-negative safe integer`);
    }
    // Fold both 32-bit halves of the seed into one key.
    this.seedKey = mix32((seed >>> 0) ^ mix32(Math.floor(seed / TWO_32)));
  }

  /** The stream called `name`, created on first use. */
  stream(name: string): Rng {
    let rng = this.streams.get(name);
    if (rng === undefined) {
      rng = new Rng(mix32(this.seedKey ^ fnv1a(name)));
      this.streams.set(name, rng);
    }
    return rng;
  }
}
