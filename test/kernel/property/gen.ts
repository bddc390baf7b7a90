// The generator of the property test: a random small machine (a Variant) and random operation
// sequences on its memory core (kernel-model.md §1–§3).

import fc from 'fast-check';
import { bootKernel } from '../../../src/kernel/boot.js';
import type { KernelVersion, Policies } from '../../../src/kernel/config.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import { ObjKind } from '../../../src/kernel/mm/rmap.js';
import type { TestClock } from '../../helpers.js';

// ---- the random machine ---------------------------------------------------------------------

export interface Variant {
  version: KernelVersion;
  placement: Policies['placement'];
  pcp: Policies['pcp'];
  movable: boolean;
  opbB: number;
  seed: number;
}

export const variantArb: fc.Arbitrary<Variant> = fc.record({
  version: fc.constantFrom<KernelVersion>('6.4', '6.18'),
  placement: fc.constantFrom<Policies['placement']>('lowest-pfn', 'shuffled', 'kernel'),
  pcp: fc.constantFrom<Policies['pcp']>('off', 'on'),
  movable: fc.boolean(),
  opbB: fc.constantFrom(1, 2),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

/** 64 MiB at pfn 0, CMA 'a' 8 MiB (order_per_bit 0) and 'b' 4 MiB, optional 8 MiB ZONE_MOVABLE. */
export function boot(v: Variant): { k: Kernel; clock: TestClock } {
  const clock: TestClock = { now: 0 };
  const k = bootKernel(
    {
      version: v.version,
      seed: v.seed,
      policies: { placement: v.placement, pcp: v.pcp },
      machine: {
        memory: '64MiB',
        dramBase: 0,
        minFree: '128KiB',
        ...(v.movable ? { movable: '8MiB' } : {}),
        cma: [
          { name: 'a', size: '8MiB', orderPerBit: 0 },
          { name: 'b', size: '4MiB', orderPerBit: v.opbB },
        ],
      },
    },
    clock,
  );
  return { k, clock };
}

/** The user objects every run works on: three anon mappings and one file's page cache. */
export const OBJECTS: readonly { kind: ObjKind; pages: number }[] = [
  { kind: ObjKind.ANON, pages: 4096 },
  { kind: ObjKind.ANON, pages: 4096 },
  { kind: ObjKind.ANON, pages: 2048 },
  { kind: ObjKind.FILE, pages: 2048 },
];

// ---- operations -------------------------------------------------------------------------------

/**
 * A reference the driver takes: a transient get; a pin no holder registered (one in flight); a
 * pin registered with a short-term or a long-term pin holder (k.pins, as pin_holder.ts does).
 */
export type Ref = 'get' | 'pin' | 'short' | 'long';

export type Op =
  | { t: 'fault'; obj: number; start: number; n: number; pin: boolean; dirty: boolean }
  | { t: 'release'; obj: number; start: number; n: number }
  | { t: 'mlock'; obj: number; start: number; n: number; on: boolean }
  | { t: 'ref'; ref: Ref; pick: number }
  | { t: 'unref'; pick: number }
  | { t: 'kalloc'; order: number; n: number }
  | { t: 'kfree'; pick: number; n: number }
  | { t: 'cmaAlloc'; area: number; count: number; align: number }
  | { t: 'cmaRelease'; pick: number }
  | { t: 'migrate'; pick: number; n: number; gfp: 'user' | 'movable' };

const obj = fc.nat({ max: OBJECTS.length - 1 });
const idx = fc.nat({ max: 4095 });
const pick = fc.nat({ max: 1 << 20 });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('fault' as const),
      obj,
      start: idx,
      n: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 2048 })),
      pin: fc.boolean(),
      dirty: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('release' as const),
      obj,
      start: idx,
      n: fc.integer({ min: 1, max: 1024 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('mlock' as const),
      obj,
      start: idx,
      n: fc.integer({ min: 1, max: 512 }),
      on: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('ref' as const),
      ref: fc.constantFrom<Ref>('get', 'pin', 'short', 'long'),
      pick,
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unref' as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('kalloc' as const),
      order: fc.nat({ max: 4 }),
      n: fc.integer({ min: 1, max: 48 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('kfree' as const),
      pick,
      n: fc.integer({ min: 1, max: 32 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('cmaAlloc' as const),
      area: fc.nat({ max: 1 }),
      count: pick, // reduced to 1 .. area.count + 16 when run
      align: fc.nat({ max: 9 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cmaRelease' as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('migrate' as const),
      pick,
      n: fc.integer({ min: 1, max: 64 }),
      gfp: fc.constantFrom('user' as const, 'movable' as const),
    }),
  },
);
