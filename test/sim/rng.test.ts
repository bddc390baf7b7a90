import { describe, expect, it } from 'vitest';
import { Rng, RngStreams } from '../../src/sim/rng.js';

const take = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.u32());

describe('Rng', () => {
  it('matches regression constants', () => {
    expect(take(new RngStreams(42).stream('alloc'), 3)).toEqual([530857190, 3700564921, 710264102]);
    expect(take(new RngStreams(0).stream(''), 3)).toEqual([4034981270, 1839567016, 1405230991]);
    expect(take(new RngStreams(2 ** 53 - 1).stream('pin'), 3)).toEqual([
      4223405265, 626547601, 495554456,
    ]);
    expect(take(new Rng(0), 3)).toEqual([3809008728, 1133695204, 53579671]);
  });

  it('returns u32 values and floats in [0, 1)', () => {
    const rng = new Rng(7);
    let ok = true;
    for (let i = 0; i < 10_000; i++) {
      const x = rng.u32();
      const f = rng.float();
      ok &&= Number.isInteger(x) && x >= 0 && x < 2 ** 32 && f >= 0 && f < 1;
    }
    expect(ok).toBe(true);
  });

  it('int() stays in bounds and hits every value', () => {
    const rng = new Rng(1);
    const seen = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const x = rng.int(-3, 4);
      seen.set(x, (seen.get(x) ?? 0) + 1);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const count of seen.values()) expect(Math.abs(count - 20_000 / 7)).toBeLessThan(300);
    expect(rng.int(5, 6)).toBe(5);
    const big = rng.int(0, 2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
    const high = rng.int(2 ** 52, 2 ** 52 + 3);
    expect(high >= 2 ** 52 && high < 2 ** 52 + 3).toBe(true);
  });

  it('int() rejects empty, fractional and oversized ranges', () => {
    const rng = new Rng(1);
    expect(() => rng.int(3, 3)).toThrow('Rng.int(3, 3): expected integers with lo < hi');
    expect(() => rng.int(0, 1.5)).toThrow('Rng.int(0, 1.5): expected integers with lo < hi');
    expect(() => rng.int(0, 2 ** 32 + 1)).toThrow('Rng.int(0, 4294967297): range larger than 2^32');
  });

  it('pick() returns elements and rejects an empty array', () => {
    const rng = new Rng(3);
    const xs = ['a', 'b', 'c'] as const;
    const picked = new Set(Array.from({ length: 200 }, () => rng.pick(xs)));
    expect([...picked].sort()).toEqual(['a', 'b', 'c']);
    expect(() => rng.pick([])).toThrow('Rng.pick: empty array');
  });
});

describe('RngStreams', () => {
  it('gives the same sequence for the same seed and name', () => {
    expect(take(new RngStreams(9).stream('x'), 100)).toEqual(
      take(new RngStreams(9).stream('x'), 100),
    );
  });

  it('returns the same object for the same name', () => {
    const s = new RngStreams(1);
    expect(s.stream('a')).toBe(s.stream('a'));
    expect(s.stream('a')).not.toBe(s.stream('b'));
  });

  it('separates names and seeds', () => {
    const first = (seed: number, name: string) => take(new RngStreams(seed).stream(name), 4);
    const seqs = [
      first(1, 'a'),
      first(1, 'b'),
      first(1, 'ab'),
      first(1, 'ba'),
      first(2, 'a'),
      first(2 ** 32 + 1, 'a'),
      first(1, 'é'),
      first(1, '\u0000é'),
    ].map((xs) => xs.join(','));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('does not depend on stream creation order or use', () => {
    const one = new RngStreams(5);
    const a1 = take(one.stream('a'), 5);
    const b1 = take(one.stream('b'), 5);
    const two = new RngStreams(5);
    take(two.stream('c'), 50);
    const b2 = take(two.stream('b'), 5);
    const a2 = take(two.stream('a'), 5);
    expect(a2).toEqual(a1);
    expect(b2).toEqual(b1);
  });

  it('rejects invalid seeds', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => new RngStreams(seed)).toThrow(
        `invalid seed ${seed}: expected a non-negative safe integer`,
      );
    }
  });
});
