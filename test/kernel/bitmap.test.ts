// HierBitmap (the buddy free lists' sets) against a plain Set, across all five levels.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HierBitmap } from '../../src/kernel/mm/bitmap.js';

/** The lowest member of `set` that is >= from, or -1. */
function nextOf(set: Set<number>, from: number): number {
  let best = -1;
  for (const v of set) if (v >= from && (best < 0 || v < best)) best = v;
  return best;
}

describe('HierBitmap', () => {
  it('matches a Set under random adds and deletes, at every size', () => {
    const sizes = [1, 31, 32, 33, 1024, 1025, 40_000, 2_000_000];
    fc.assert(
      fc.property(
        fc.constantFrom(...sizes),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat()), { maxLength: 60 }),
        (size, ops) => {
          const h = new HierBitmap(size);
          const ref = new Set<number>();
          for (const [add, r, q] of ops) {
            const i = r % size;
            const wasEmpty = ref.size === 0;
            if (add) {
              const had = ref.has(i);
              ref.add(i);
              // add reports an empty set becoming non-empty
              expect(h.add(i)).toBe(wasEmpty && !had);
            } else if (ref.has(i)) {
              ref.delete(i);
              expect(h.delete(i)).toBe(ref.size === 0);
            }
            expect(h.has(i)).toBe(ref.has(i));
            expect(h.first()).toBe(nextOf(ref, 0));
            const from = q % (size + 1);
            expect(h.next(from)).toBe(nextOf(ref, from));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reaches the top level: members 32^4 apart', () => {
    const h = new HierBitmap(32 ** 5);
    expect(h.add(3 * 32 ** 4)).toBe(true);
    expect(h.add(32 ** 4 - 1)).toBe(false);
    expect(h.first()).toBe(32 ** 4 - 1);
    expect(h.next(32 ** 4)).toBe(3 * 32 ** 4);
    expect(h.delete(32 ** 4 - 1)).toBe(false);
    expect(h.delete(3 * 32 ** 4)).toBe(true);
    expect(h.first()).toBe(-1);
  });

  it('refuses more than 32^5 members', () => {
    expect(() => new HierBitmap(32 ** 5 + 1)).toThrow(/at most 32\^5/);
  });
});
