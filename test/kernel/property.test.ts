// Property-based tests of the memory core: random operation sequences on small machines, with
// every invariant of invariants.ts checked after every step (plus oracles for fault placement
// and for why a cma_alloc window failed); then deterministic cases for kernel-model.md rules that
// test/fidelity does not cover (§2.3, §2.4, §3.4, §6 item 3, §9), and checks that the invariant
// checker does detect corruption.
//
// FC_SEED=<n> replays a reported failure; FC_RUNS=<n> runs more sequences (mind the 60 s test
// timeout: about 3000 fit).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bootKernel } from '../../src/kernel/boot.js';
import {
  CMA_RETRY_SLEEP_NS,
  type KernelVersion,
  MT,
  MT_NAMES,
  PAGEBLOCK_ORDER,
  type Policies,
} from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { type CmaAllocOutcome, cmaAlloc, cmaRelease } from '../../src/kernel/mm/cma.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_USER } from '../../src/kernel/mm/gfp.js';
import { faultPage, releasePage } from '../../src/kernel/mm/memory.js';
import { migratePages } from '../../src/kernel/mm/migrate.js';
import {
  PageArrays,
  PageKind,
  PG_DIRTY,
  PG_MLOCKED,
  PG_PIN_LONGTERM,
} from '../../src/kernel/mm/page.js';
import { type MemObject, ObjKind } from '../../src/kernel/mm/rmap.js';
import type { PinHolder } from '../../src/kernel/observe/blame.js';
import type { Sleep } from '../../src/sim/engine.js';
import { dmesg, drive, type TestClock, traceLines } from '../helpers.js';
import {
  type ContentState,
  checkInvariants,
  type InvariantCtx,
  type KernelBlock,
  type LiveCma,
} from './invariants.js';

// ---- the random machine ---------------------------------------------------------------------

interface Variant {
  version: KernelVersion;
  placement: Policies['placement'];
  pcp: Policies['pcp'];
  movable: boolean;
  opbB: number;
  seed: number;
}

const variantArb: fc.Arbitrary<Variant> = fc.record({
  version: fc.constantFrom<KernelVersion>('6.4', '6.18'),
  placement: fc.constantFrom<Policies['placement']>('lowest-pfn', 'shuffled', 'kernel'),
  pcp: fc.constantFrom<Policies['pcp']>('off', 'on'),
  movable: fc.boolean(),
  opbB: fc.constantFrom(1, 2),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

/** 64 MiB at pfn 0, CMA 'a' 8 MiB (order_per_bit 0) and 'b' 4 MiB, optional 8 MiB ZONE_MOVABLE. */
function boot(v: Variant): { k: Kernel; clock: TestClock } {
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
const OBJECTS: readonly { kind: ObjKind; pages: number }[] = [
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
type Ref = 'get' | 'pin' | 'short' | 'long';

type Op =
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
const opArb: fc.Arbitrary<Op> = fc.oneof(
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

// ---- the driver --------------------------------------------------------------------------------

class Model {
  readonly objs: MemObject[];
  readonly cmaLive: LiveCma[][];
  readonly kernelBlocks: KernelBlock[] = [];
  /** per object index, the expected state of each resident page */
  readonly states: (ContentState | undefined)[][];
  /** references the driver holds, one entry per reference */
  readonly held: { obj: MemObject; idx: number; ref: Ref; holder?: PinHolder }[] = [];
  readonly ctx: InvariantCtx;
  stats = { cmaOk: 0, cmaFail: 0, migrated: 0, enomem: 0, ebusy: 0 };

  constructor(
    readonly k: Kernel,
    readonly clock: TestClock,
  ) {
    this.objs = OBJECTS.map((o, i) => k.rmap.create(o.kind, o.pages, `obj${i}`));
    // dense arrays: a sparse one would fall back to slow dictionary elements
    this.states = this.objs.map((o) =>
      new Array<ContentState | undefined>(o.pages.length).fill(undefined),
    );
    this.cmaLive = k.cma.map(() => []);
    this.ctx = {
      cmaLive: this.cmaLive,
      kernelBlocks: this.kernelBlocks,
      content: new Map(this.objs.map((o, i) => [o.id, this.states[i]!])),
    };
  }

  /** Resident user pages as [object number, index]. */
  private resident(): [number, number][] {
    const out: [number, number][] = [];
    this.objs.forEach((o, n) => {
      for (let ix = 0; ix < o.pages.length; ix++) if (o.pages[ix]! >= 0) out.push([n, ix]);
    });
    return out;
  }

  run(op: Op): void {
    const k = this.k;
    const pages = k.alloc.pages;
    switch (op.t) {
      case 'fault': {
        const o = this.objs[op.obj]!;
        for (let i = 0; i < op.n; i++) {
          const ix = (op.start + i) % o.pages.length;
          if (o.pages[ix]! >= 0) continue;
          // the oracle applies the §1.6 rule per allocation; with per-CPU lists it is applied per
          // page of a refill, and a fault takes what a list already holds
          const want = k.alloc.pcp === null ? expectedPlacement(k, op.pin) : undefined;
          const pfn = faultPage(k, o, ix, op.pin);
          if (want !== undefined) checkPlacement(k, want, pfn);
          if (pfn < 0) break; // VM_FAULT_OOM
          const dirty = o.kind === ObjKind.FILE && op.dirty;
          if (dirty) pages.flags[pfn]! |= PG_DIRTY;
          this.states[op.obj]![ix] = {
            kind: o.kind,
            mlocked: false,
            dirty,
            pins: 0,
            gets: 0,
            heldAt: -1,
            noCma: op.pin,
          };
        }
        return;
      }
      case 'release': {
        const o = this.objs[op.obj]!;
        for (let i = 0; i < op.n; i++) {
          const ix = (op.start + i) % o.pages.length;
          const st = this.states[op.obj]![ix];
          if (o.pages[ix]! < 0 || !st || st.pins + st.gets > 0) continue; // a reference keeps it
          releasePage(k, o, ix);
          this.states[op.obj]![ix] = undefined;
        }
        return;
      }
      case 'mlock': {
        const o = this.objs[op.obj]!;
        for (let i = 0; i < op.n; i++) {
          const ix = (op.start + i) % o.pages.length;
          const pfn = o.pages[ix]!;
          if (pfn < 0) continue;
          if (op.on) pages.flags[pfn]! |= PG_MLOCKED;
          else pages.flags[pfn]! &= ~PG_MLOCKED;
          this.states[op.obj]![ix]!.mlocked = op.on;
        }
        return;
      }
      case 'ref': {
        const res = this.resident();
        if (res.length === 0) return;
        const [n, ix] = res[op.pick % res.length]!;
        const st = this.states[n]![ix]!;
        if (st.pins + st.gets >= 4) return;
        const pfn = this.objs[n]!.pages[ix]!;
        let holder: PinHolder | undefined;
        if (op.ref === 'get') {
          pages.addGets(pfn, 1);
          st.gets++;
        } else {
          pages.addPins(pfn, 1);
          st.pins++;
          if (op.ref !== 'pin') {
            const h = { pid: 1, comm: 'drv', via: 'gup_test' as const, id: this.held.length };
            holder = k.pins.add({ ...h, pfns: [pfn], longterm: op.ref === 'long' });
          }
        }
        st.heldAt = pfn;
        this.held.push({ obj: this.objs[n]!, idx: ix, ref: op.ref, holder });
        return;
      }
      case 'unref': {
        if (this.held.length === 0) return;
        const [h] = this.held.splice(op.pick % this.held.length, 1);
        const st = this.states[this.objs.indexOf(h!.obj)]![h!.idx]!;
        const pfn = h!.obj.pages[h!.idx]!;
        if (h!.ref === 'get') {
          pages.addGets(pfn, -1);
          st.gets--;
        } else {
          if (h!.holder) k.pins.remove(h!.holder); // release(): the holder, then the pin
          pages.addPins(pfn, -1);
          st.pins--;
        }
        if (st.pins + st.gets === 0) st.heldAt = -1;
        return;
      }
      case 'kalloc': {
        for (let i = 0; i < op.n; i++) {
          const pfn = k.alloc.allocPages(op.order, GFP_KERNEL, PageKind.KERNEL);
          if (pfn < 0) break;
          expect(pfn % (1 << op.order)).toBe(0);
          this.kernelBlocks.push({ pfn, order: op.order });
        }
        return;
      }
      case 'kfree': {
        for (let i = 0; i < op.n && this.kernelBlocks.length > 0; i++) {
          const [b] = this.kernelBlocks.splice((op.pick + i * 7919) % this.kernelBlocks.length, 1);
          k.alloc.freePages(b!.pfn, b!.order);
        }
        return;
      }
      case 'cmaAlloc': {
        const area = k.cma[op.area]!;
        const count = 1 + (op.count % (area.count + 16));
        const traced = k.trace.total;
        const r = drive(cmaAlloc(k, area, count, op.align), this.clock);
        checkBusyWindows(k, k.trace.total - traced, count, r);
        if (r.pfn >= 0) {
          this.stats.cmaOk++;
          expect(r.errno).toBe(0);
          expect(area.contains(r.pfn) && r.pfn + count <= area.basePfn + area.count).toBe(true);
          expect((r.pfn - area.basePfn) % (1 << Math.max(op.align, area.orderPerBit))).toBe(0);
          this.cmaLive[area.id]!.push({ pfn: r.pfn, count });
        } else {
          this.stats.cmaFail++;
          if (r.errno === -12) this.stats.enomem++;
          else this.stats.ebusy++;
          expect([-16, -12]).toContain(r.errno);
          if (count > area.count) expect(r.errno).toBe(k.version === '6.4' ? -12 : -16);
        }
        return;
      }
      case 'cmaRelease': {
        const areas = this.cmaLive.filter((l) => l.length > 0);
        if (areas.length === 0) return;
        const live = areas[op.pick % areas.length]!;
        const [l] = live.splice(op.pick % live.length, 1);
        const area = k.cma[this.cmaLive.indexOf(live)]!;
        expect(cmaRelease(k, area, l!.pfn, l!.count)).toBe(true);
        return;
      }
      case 'migrate': {
        const res = this.resident();
        if (res.length === 0) return;
        const chosen = new Set<number>();
        for (let i = 0; i < Math.min(op.n, res.length); i++)
          chosen.add((op.pick + i * 31) % res.length);
        const before = [...chosen].map((c) => {
          const [n, ix] = res[c]!;
          return { n, ix, pfn: this.objs[n]!.pages[ix]! };
        });
        const list = before.map((b) => b.pfn);
        const gfp = op.gfp === 'user' ? GFP_USER : GFP_HIGHUSER_MOVABLE;
        const rc = migratePages(k, list, gfp, 'longterm_pin');
        const left = new Set(list);
        let moved = 0;
        for (const b of before) {
          const now = this.objs[b.n]!.pages[b.ix]!;
          if (now === b.pfn) {
            expect(left.has(b.pfn)).toBe(true); // not migrated: still on the list
            continue;
          }
          moved++;
          expect(left.has(b.pfn)).toBe(false);
          this.states[b.n]![b.ix]!.noCma = op.gfp === 'user';
        }
        this.stats.migrated += moved;
        if (rc >= 0) expect(rc).toBe(list.length);
        else expect(rc).toBe(-12);
        return;
      }
    }
  }
}

const describeOp = (op: Op) => JSON.stringify(op);

// ---- oracles for single operations -------------------------------------------------------------

type Placement = 'fail' | 'movable-zone' | 'cma' | 'movable-pageblock' | 'non-cma';

/**
 * Where the next order-0 user page must come from (§1.3, §1.6): ZONE_MOVABLE first for
 * GFP_HIGHUSER_MOVABLE; in the normal zone CMA first iff free_cma > free / 2, then the MOVABLE
 * lists, then CMA, then stealing from another type. Under PF_MEMALLOC_PIN: UNMOVABLE, never CMA,
 * with free CMA pages unusable for the watermark (§1.7).
 */
function expectedPlacement(k: Kernel, pin: boolean): Placement {
  const [normal, movable] = k.alloc.zones;
  if (pin) {
    return normal!.freePages - normal!.freeCma > normal!.minWatermark ? 'non-cma' : 'fail';
  }
  if (movable && movable.freePages > movable.minWatermark) return 'movable-zone';
  const z = normal!;
  if (z.freePages <= z.minWatermark) return 'fail';
  if (z.freeCma > Math.floor(z.freePages / 2)) return 'cma';
  if (z.avail[MT.MOVABLE] !== 0) return 'movable-pageblock';
  return z.freeCma > 0 ? 'cma' : 'non-cma';
}

function checkPlacement(k: Kernel, want: Placement, pfn: number): void {
  const a = k.alloc;
  const pbMt = pfn >= 0 ? a.pbMt[pfn >> PAGEBLOCK_ORDER]! : -1;
  const inMovableZone = pfn >= a.movableStartPfn;
  const ok = {
    fail: pfn < 0,
    'movable-zone': pfn >= 0 && inMovableZone,
    cma: pfn >= 0 && !inMovableZone && pbMt === MT.CMA,
    'movable-pageblock': pfn >= 0 && !inMovableZone && pbMt === MT.MOVABLE,
    'non-cma': pfn >= 0 && !inMovableZone && pbMt !== MT.CMA,
  }[want];
  if (!ok) {
    const got =
      pfn < 0
        ? 'no page'
        : `pfn 0x${pfn.toString(16)} (${MT_NAMES[pbMt]}, zone ${a.zoneOf(pfn).name})`;
    throw new Error(`fault placement: expected ${want}, got ${got}`);
  }
}

/**
 * Every window that failed with -EBUSY (one cma_alloc_busy_retry each) holds a page that a pin
 * or transient reference keeps (§2.4, §3.4): mlocked, dirty and clean pages never block, and
 * kernel pages cannot be in CMA. The number of busy windows matches the outcome (§2.3).
 */
function checkBusyWindows(k: Kernel, emitted: number, count: number, r: CmaAllocOutcome): void {
  const pages = k.alloc.pages;
  const last = r.pfn >= 0 || (r.errno === -12 && r.windows > 0) ? 1 : 0; // success or -ENOMEM
  const busy = k.trace
    .records(emitted)
    .filter((rec) => rec.name === 'cma_alloc_busy_retry')
    .map((rec) => rec as Extract<typeof rec, { name: 'cma_alloc_busy_retry' }>);
  if (busy.length !== r.windows - last)
    throw new Error(`${busy.length} busy retries for ${r.windows} windows, outcome ${r.errno}`);
  for (const rec of busy) {
    const start = rec.fields.pfn;
    let blocked = false;
    for (let p = start; p < start + count && !blocked; p++) {
      const kind = pages.kind[p];
      blocked = (kind === PageKind.ANON || kind === PageKind.FILE) && pages.hasExtraRefs(p);
    }
    if (!blocked) {
      throw new Error(
        `window 0x${start.toString(16)}+${count} failed with -EBUSY but holds no pinned or referenced page`,
      );
    }
  }
}

describe('random operation sequences keep every invariant', () => {
  it('1000 sequences of 5–40 operations', () => {
    const totals = { runs: 0, ops: 0, cmaOk: 0, cmaFail: 0, enomem: 0, ebusy: 0, migrated: 0 };
    fc.assert(
      fc.property(
        variantArb,
        fc.array(opArb, { minLength: 5, maxLength: 40, size: 'max' }),
        (v, ops) => {
          const { k, clock } = boot(v);
          const m = new Model(k, clock);
          checkInvariants(k, m.ctx);
          for (let i = 0; i < ops.length; i++) {
            try {
              m.run(ops[i]!);
              checkInvariants(k, m.ctx);
            } catch (e) {
              const err = e as Error;
              err.message = `after op #${i} ${describeOp(ops[i]!)} on ${JSON.stringify(v)}: ${err.message}`;
              throw err;
            }
          }
          checkInvariants(k, { ...m.ctx, exhaustive: true });
          totals.runs++;
          totals.ops += ops.length;
          for (const key of ['cmaOk', 'cmaFail', 'enomem', 'ebusy', 'migrated'] as const)
            totals[key] += m.stats[key];
        },
      ),
      {
        numRuns: Number(process.env.FC_RUNS ?? 1000),
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
      },
    );
    // the generator must reach the interesting paths, not only trivial ones
    expect(totals.runs).toBeGreaterThanOrEqual(1000);
    expect(totals.cmaOk).toBeGreaterThan(0);
    expect(totals.ebusy).toBeGreaterThan(0);
    expect(totals.migrated).toBeGreaterThan(0);
  });
});

// ---- deterministic cases ------------------------------------------------------------------------

/**
 * 8 MiB at 0 with CMA 'a' (4 MiB, pfn 1024..2047) on top and `reservedMiB` of boot memory, so
 * that free non-CMA memory is small and the first user pages land in CMA at its lowest pfns. No
 * per-CPU lists (unless `policies` names pcp): the cases count every free page in the buddy.
 */
function smallMachine(
  version: KernelVersion,
  policies: Partial<Policies> = {},
  reservedMiB = 2,
): { k: Kernel; clock: TestClock; a: ReturnType<Kernel['cmaByName']> & {} } {
  const clock: TestClock = { now: 0 };
  const k = bootKernel(
    {
      version,
      policies: { pcp: 'off', ...policies },
      machine: {
        memory: '8MiB',
        dramBase: 0,
        minFree: 0,
        reserved: `${reservedMiB}MiB`,
        cma: [{ name: 'a', size: '4MiB' }],
      },
    },
    clock,
  );
  return { k, clock, a: k.cmaByName('a')! };
}

const A_BASE = 1024;
const ctxOf = (live: LiveCma[] = []): InvariantCtx => ({ cmaLive: [live] });

describe.each(['6.18', '6.4'] as const)('(a) %s: count larger than the area', (version) => {
  it('no candidate window: 6.18 -EBUSY with pr_err, 6.4 -ENOMEM silently (goto out)', () => {
    const { k, clock, a } = smallMachine(version);
    const r = drive(cmaAlloc(k, a, 1025, 0), clock);
    expect(r).toMatchObject({ pfn: -1, windows: 0, migrated: 0 });
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(a.allocPagesFail).toBe(1025);
    if (version === '6.18') {
      expect(r.errno).toBe(-16);
      expect(dmesg(k)[0]).toBe('cma: __cma_alloc: a: alloc failed, req-size: 1025 pages, ret: -16');
      // 6.18 __cma_alloc: trace_cma_alloc_finish(name, page ? page_to_pfn(page) : 0, ...)
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([
        'cma_alloc_finish: name=a pfn=0x0 page=0000000000000000 count=1025 align=0 errorno=-16',
      ]);
    } else {
      expect(r.errno).toBe(-12);
      expect(dmesg(k)).toEqual([]);
      // 6.4 cma_alloc: `if (bitmap_count > bitmap_maxno) goto out;` and `out:` follows both
      // trace_cma_alloc_finish and the pr_err, so neither is emitted
      expect(traceLines(k, 'cma_alloc_start')).toEqual([
        'cma_alloc_start: name=a count=1025 align=0',
      ]);
      expect(traceLines(k, 'cma_alloc_finish')).toEqual([]);
    }
    checkInvariants(k, ctxOf());
  });

  it('bitmap full (count fits the area): 6.18 early exit -EBUSY, 6.4 loop finds nothing -ENOMEM; both warn', () => {
    const { k, clock, a } = smallMachine(version);
    const whole = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(whole.pfn).toBe(A_BASE);
    const r = drive(cmaAlloc(k, a, 1, 0), clock);
    const ret = version === '6.18' ? -16 : -12;
    expect(r).toMatchObject({ pfn: -1, windows: 0, errno: ret });
    const fn = version === '6.18' ? '__cma_alloc' : 'cma_alloc';
    expect(dmesg(k)[0]).toBe(`cma: ${fn}: a: alloc failed, req-size: 1 pages, ret: ${ret}`);
    // 6.4 reports the last window tried (none: -1), 6.18 page ? pfn : 0
    const pfn = version === '6.18' ? '0x0' : '0xffffffffffffffff';
    expect(traceLines(k, 'cma_alloc_finish')[1]).toBe(
      `cma_alloc_finish: name=a pfn=${pfn} page=0000000000000000 count=1 align=0 errorno=${ret}`,
    );
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });
});

describe.each(['6.18', '6.4'] as const)('(b) %s: migration targets run out', (version) => {
  it('cma_alloc stops with -ENOMEM after the first window, no further windows', () => {
    const { k, clock, a } = smallMachine(version, {}, 0);
    // non-CMA memory full of kernel pages, the CMA area full of anon pages
    const kernel: KernelBlock[] = [];
    for (;;) {
      const pfn = k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL);
      if (pfn < 0) break;
      kernel.push({ pfn, order: 0 });
    }
    expect(kernel.length).toBe(1024);
    const anon = k.rmap.create(ObjKind.ANON, 2048, 'anon');
    let n = 0;
    while (faultPage(k, anon, n) >= 0) n++;
    expect(n).toBe(1024);
    expect(k.alloc.freeCounts()).toEqual([0, 0]);
    // three free non-CMA pages: room for three migration targets only
    for (const b of kernel.splice(0, 3)) k.alloc.freePages(b.pfn, 0);
    const before = [...anon.pages.subarray(0, n)];

    const r = drive(cmaAlloc(k, a, 16, 0), clock);
    expect(r).toMatchObject({ pfn: -1, errno: -12, windows: 1, migrated: 3 });
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
    expect(k.trace.count('test_pages_isolated')).toBe(0);
    expect(k.vm.pgmigrate_success).toBe(3);
    expect(k.vm.cma_alloc_fail).toBe(1);
    const fn = version === '6.18' ? '__cma_alloc' : 'cma_alloc';
    expect(dmesg(k)[0]).toBe(`cma: ${fn}: a: alloc failed, req-size: 16 pages, ret: -12`);
    expect(traceLines(k, 'cma_alloc_finish')[0]).toMatch(/ errorno=-12$/);
    // the three migrations persist, everything else is where it was
    const moved = before.filter((pfn, i) => anon.pages[i] !== pfn);
    expect(moved).toEqual([A_BASE, A_BASE + 1, A_BASE + 2]);
    for (let i = 0; i < 3; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
    checkInvariants(k, { cmaLive: [[]], kernelBlocks: kernel });
  });
});

describe('(c) 6.18 cmaRetry=android with a pinned page in every window', () => {
  it('11 full scans, 10 sleeps of 100 ms, errorno -16', () => {
    const { k, clock, a } = smallMachine('6.18', { cmaRetry: 'android' });
    const anon = k.rmap.create(ObjKind.ANON, 501, 'anon');
    for (let i = 0; i <= 500; i++) expect(faultPage(k, anon, i)).toBe(A_BASE + i);
    for (let i = 0; i < 500; i++) releasePage(k, anon, i);
    k.alloc.pages.addPins(A_BASE + 500, 1);

    // count 1000, align 0: windows 0..24 per scan, every one contains offset 500
    const gen = cmaAlloc(k, a, 1000, 0);
    const sleeps: number[] = [];
    let r: CmaAllocOutcome;
    for (;;) {
      const s: IteratorResult<Sleep, CmaAllocOutcome> = gen.next();
      if (s.done) {
        r = s.value;
        break;
      }
      if (s.value.ns === CMA_RETRY_SLEEP_NS) sleeps.push(clock.now);
      clock.now += s.value.ns;
    }
    expect(sleeps).toHaveLength(10);
    expect(r).toMatchObject({ pfn: -1, errno: -16, windows: 11 * 25 });
    expect(r.busyPfns.every((p) => p === A_BASE + 500)).toBe(true);
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(11 * 25);
    expect(r.latencyNs).toBeGreaterThanOrEqual(10 * CMA_RETRY_SLEEP_NS);
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(dmesg(k)[0]).toBe('cma: __cma_alloc: a: alloc failed, req-size: 1000 pages, ret: -16');
    expect(traceLines(k, 'cma_alloc_finish')).toEqual([
      'cma_alloc_finish: name=a pfn=0x0 page=0000000000000000 count=1000 align=0 errorno=-16',
    ]);
    expect(anon.pages[500]).toBe(A_BASE + 500); // pins never move
    checkInvariants(k, ctxOf());
  });
});

/** One page-cache page at the base of 'a', then 63 anon pages right after it. */
function fileThenAnon(version: KernelVersion) {
  const m = smallMachine(version);
  const file = m.k.rmap.create(ObjKind.FILE, 1, '/data/file');
  expect(faultPage(m.k, file, 0)).toBe(A_BASE);
  const anon = m.k.rmap.create(ObjKind.ANON, 63, 'anon');
  for (let i = 0; i < 63; i++) expect(faultPage(m.k, anon, i)).toBe(A_BASE + 1 + i);
  return { ...m, file, anon };
}

describe.each(['6.18', '6.4'] as const)(
  '(d) %s: a file page with an extra reference',
  (version) => {
    it('fails its window with -EBUSY after 5 migrate_pages calls and stops scanning the window', () => {
      const { k, clock, a, file, anon } = fileThenAnon(version);
      k.alloc.pages.flags[A_BASE]! |= PG_DIRTY; // not dropped by reclaim_clean_pages_from_list
      k.alloc.pages.addGets(A_BASE, 1); // a concurrent read() copying from the folio

      // the whole area: a single window
      const r = drive(cmaAlloc(k, a, 1024, 0), clock);
      expect(r).toMatchObject({ pfn: -1, errno: -16, windows: 1, busyPfns: [A_BASE] });
      expect(k.vm.pgmigrate_fail).toBe(5);
      expect(k.trace.count('mm_migrate_pages')).toBe(5);
      expect(file.pages[0]).toBe(A_BASE);
      // the first isolation batch (COMPACT_CLUSTER_MAX = 32: the file page and anon 0..30) was
      // migrated in the first call; the scan then stopped, so anon 31..62 were never isolated
      expect(k.vm.pgmigrate_success).toBe(31);
      for (let i = 0; i < 31; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
      for (let i = 31; i < 63; i++) expect(anon.pages[i]).toBe(A_BASE + 1 + i);
      checkInvariants(k, ctxOf());
    });

    it('control: the same page without the extra reference is migrated and the window succeeds', () => {
      const { k, clock, a, file } = fileThenAnon(version);
      k.alloc.pages.flags[A_BASE]! |= PG_DIRTY;
      const r = drive(cmaAlloc(k, a, 1024, 0), clock);
      expect(r).toMatchObject({ pfn: A_BASE, errno: 0, windows: 1, migrated: 64 });
      expect(k.vm.pgmigrate_fail).toBe(0);
      expect(a.contains(file.pages[0]!)).toBe(false);
      expect(k.alloc.pages.flags[file.pages[0]!]! & PG_DIRTY).toBe(PG_DIRTY);
      checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
    });
  },
);

describe.each(['6.18', '6.4'] as const)('(e) %s: a clean file page', (version) => {
  it('is dropped by reclaim, not migrated', () => {
    const { k, clock, a, file, anon } = fileThenAnon(version);
    const r = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(r).toMatchObject({ pfn: A_BASE, errno: 0, windows: 1 });
    expect(file.pages[0]).toBe(-1);
    expect(file.nrResident).toBe(0);
    expect(k.vm.pgmigrate_success).toBe(63); // the anon pages only
    expect(k.vm.pgmigrate_fail).toBe(0);
    for (let i = 0; i < 63; i++) expect(a.contains(anon.pages[i]!)).toBe(false);
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });

  it('control: a clean but mlocked (unevictable) file page is migrated instead', () => {
    const { k, clock, a, file } = fileThenAnon(version);
    k.alloc.pages.flags[A_BASE]! |= PG_MLOCKED;
    const r = drive(cmaAlloc(k, a, 1024, 0), clock);
    expect(r).toMatchObject({ pfn: A_BASE, errno: 0, migrated: 64 });
    expect(a.contains(file.pages[0]!)).toBe(false);
    expect(k.alloc.pages.flags[file.pages[0]!]! & PG_MLOCKED).toBe(PG_MLOCKED);
    checkInvariants(k, ctxOf([{ pfn: A_BASE, count: 1024 }]));
  });
});

// ---- placement=kernel: the kernel's list discipline (mm/page_alloc.c, 6.4 and 6.18) ------------

/** `memory` at pfn 0, no reserve, min watermark 0, placement=kernel, the buddy alone (pcp=off). */
function kernelMachine(version: KernelVersion, memory: string, cma: string[] = []): Kernel {
  const machine = {
    memory,
    dramBase: 0,
    minFree: 0,
    ...(cma.length ? { reserved: '1MiB' } : {}),
    cma: cma.map((size, i) => ({ name: `c${i}`, size })),
  };
  return bootKernel(
    { version, policies: { placement: 'kernel', pcp: 'off' }, machine },
    { now: 0 },
  );
}

/** Order-0 user pages faulted into one anon object, and freed by pfn. */
function userPages(k: Kernel) {
  const obj = k.rmap.create(ObjKind.ANON, 4096, 'anon');
  let next = 0;
  return {
    alloc: () => faultPage(k, obj, next++),
    free: (pfn: number) => releasePage(k, obj, obj.pages.indexOf(pfn)),
  };
}
const list = (k: Kernel, mt: MT, order: number) => [
  ...k.alloc.freeBlocks(k.alloc.zones[0]!, mt, order),
];

describe.each(['6.18', '6.4'] as const)('placement=kernel %s: list order', (version) => {
  it('boot frees to the tail, expand() and frees go to the head, a likely merge to the tail', () => {
    // 8 MiB: two order-10 blocks. memblock_free_all() → __free_pages_core() → FPI_TO_TAIL, in
    // pfn order: MOVABLE order 10 = [0, 1024].
    const k = kernelMachine(version, '8MiB');
    const u = userPages(k);
    expect(list(k, MT.MOVABLE, 10)).toEqual([0, 1024]);
    // __rmqueue_smallest() takes the head of the smallest non-empty order (10: pfn 0); expand()
    // puts each upper half at the head of its order: 512 (o9), 256, ..., 2 (o1), 1 (o0).
    expect(u.alloc()).toBe(0);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1]);
    expect(list(k, MT.MOVABLE, 1)).toEqual([2]);
    expect(list(k, MT.MOVABLE, 9)).toEqual([512]);
    expect(list(k, MT.MOVABLE, 10)).toEqual([1024]);
    // 1 (o0 head); 2 from o1, its half 3 to o0; 3; 4 from o2, halves 6 (o1) and 5 (o0); 5
    expect([u.alloc(), u.alloc(), u.alloc(), u.alloc(), u.alloc()]).toEqual([1, 2, 3, 4, 5]);
    expect(list(k, MT.MOVABLE, 0)).toEqual([]);
    expect(list(k, MT.MOVABLE, 1)).toEqual([6]);
    // __free_one_page(1): buddy 0 is allocated, so no merge; buddy_merge_likely(): is the
    // order-1 buddy of the pair {0,1}, block 2, a free order-1 block? No: head.
    u.free(1);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1]);
    // free 4: buddy 5 allocated; the pair {4,5}'s order-1 buddy is block 6, free: tail.
    u.free(4);
    expect(list(k, MT.MOVABLE, 0)).toEqual([1, 4]);
    // free 3: buddy 2 allocated; the pair {2,3}'s order-1 buddy is block 0, allocated: head.
    u.free(3);
    expect(list(k, MT.MOVABLE, 0)).toEqual([3, 1, 4]);
    checkInvariants(k);
    // LIFO from the head: 3, 1, 4; then order 1's block 6 splits (7 to o0)
    expect([u.alloc(), u.alloc(), u.alloc(), u.alloc()]).toEqual([3, 1, 4, 6]);
    expect(list(k, MT.MOVABLE, 0)).toEqual([7]);
    checkInvariants(k);
  });

  it('CMA pageblocks are freed with __free_pages() at the head: the highest order-10 block first', () => {
    // 16 MiB with an 8 MiB CMA area at the top (pfn 2048..4095) and 1 MiB reserved.
    // init_cma_reserved_pageblock() frees pageblocks 2048, 2560, 3072, 3584 in turn (FPI_NONE):
    // 2560 merges with 2048 into an order-10 block, at the head (buddy_merge_likely() is false
    // from order 9 on); 3584 with 3072, at the head before it.
    const k = kernelMachine(version, '16MiB', ['8MiB']);
    const u = userPages(k);
    expect(list(k, MT.CMA, 10)).toEqual([3072, 2048]);
    // free CMA 2048 > free 3840 / 2: CMA first (§1.6), from the head block 3072
    expect(u.alloc()).toBe(3072);
    expect(u.alloc()).toBe(3073);
    checkInvariants(k);
  });

  it('isolation moves free blocks to the tail (move_freepages_block), lowest first', () => {
    // 8 MiB: take pfn 0 (blocks 1, 2, 4, ..., 512 at the heads); isolate pageblock 2 (pfn
    // 1024..1535), splitting the order-10 block 1024, and put it back: its free order-9 block
    // goes to the tail of MOVABLE order 9, then __putback_isolated_page() merges it with 1536
    // into order 10 (FPI_TO_TAIL).
    const k = kernelMachine(version, '8MiB');
    expect(userPages(k).alloc()).toBe(0);
    expect(k.alloc.isolatePageblock(2)).toBe(true);
    // 6.18 split_large_buddy(): 1024 freed to ISOLATE, then 1536 (its buddy is isolated: no
    // merge) at the head
    expect(list(k, MT.MOVABLE, 9)).toEqual([1536, 512]);
    expect(list(k, MT.ISOLATE, 9)).toEqual([1024]);
    k.alloc.unisolatePageblock(2);
    expect(list(k, MT.MOVABLE, 9)).toEqual([512]);
    expect(list(k, MT.MOVABLE, 10)).toEqual([1024]);
    checkInvariants(k);
  });
});

describe.each(['6.18', '6.4'] as const)('placement=kernel %s: claim or steal (§1.5)', (version) => {
  /**
   * 4 MiB (pageblocks 0 and 1) filled with order-0 kernel or user pages, pageblock 0 labelled
   * UNMOVABLE, then pfn 3 and pfns 32..63 freed: UNMOVABLE holds blocks of order 0 (3) and 5
   * (32), 33 free pages; MOVABLE holds none, so a user page must fall back. pcp=off: the
   * buddy's fallback itself, not a per-CPU refill of several pages.
   */
  function fragmented(placement: Policies['placement'], kernelPages: boolean) {
    const machine = { memory: '4MiB', dramBase: 0, minFree: 0 };
    const k = bootKernel({ version, policies: { placement, pcp: 'off' }, machine }, { now: 0 });
    const u = userPages(k);
    for (let i = 0; i < 1024; i++) {
      if (kernelPages) k.alloc.allocPages(0, GFP_KERNEL, PageKind.KERNEL);
      else u.alloc();
    }
    k.alloc.setPageblockMt(0, MT.UNMOVABLE);
    for (const p of [3, ...Array.from({ length: 32 }, (_, i) => 32 + i)]) {
      if (kernelPages) k.alloc.freePages(p, 0);
      else u.free(p);
    }
    expect(list(k, MT.UNMOVABLE, 5)).toEqual([32]);
    return { k, u };
  }

  it('a MOVABLE request steals the smallest block when it cannot claim (free + alike < 256)', () => {
    // kernel pages are not PageLRU: alike = 0, 33 < 256. 6.18 __rmqueue_claim() fails at order 5
    // and stops below order 4; __rmqueue_steal() takes the smallest block: 3. 6.4 steals from
    // the order-5 block's pageblock, and __rmqueue_smallest() takes its smallest block: 3.
    const { k, u } = fragmented('kernel', true);
    expect(u.alloc()).toBe(3);
    expect(k.alloc.pbMt[0]).toBe(MT.UNMOVABLE);
    checkInvariants(k);
    // the simplified rule (§1.5) steals the largest block instead
    expect(fragmented('lowest-pfn', true).u.alloc()).toBe(32);
  });

  it('claims the pageblock when free + movable pages reach half of it', () => {
    // 33 free + 479 anon (PageLRU) pages >= 256: the pageblock becomes MOVABLE, its free blocks
    // move to MOVABLE's tails and __rmqueue_smallest() takes the order-0 one
    const { k, u } = fragmented('kernel', false);
    expect(u.alloc()).toBe(3);
    expect(k.alloc.pbMt[0]).toBe(MT.MOVABLE);
    expect(list(k, MT.MOVABLE, 5)).toEqual([32]);
    checkInvariants(k);
    const simple = fragmented('lowest-pfn', false);
    expect(simple.u.alloc()).toBe(32);
    expect(simple.k.alloc.pbMt[0]).toBe(MT.UNMOVABLE);
  });
});

describe('the checker catches corruption (it is not vacuous)', () => {
  /** smallMachine with one anon page at the base of 'a', known to the checker's context. */
  function onePage(mlocked = false) {
    const m = smallMachine('6.18');
    const anon = m.k.rmap.create(ObjKind.ANON, 1, 'anon');
    expect(faultPage(m.k, anon, 0)).toBe(A_BASE);
    if (mlocked) m.k.alloc.pages.flags[A_BASE]! |= PG_MLOCKED;
    const st: ContentState = {
      kind: ObjKind.ANON,
      mlocked,
      dirty: false,
      pins: 0,
      gets: 0,
      heldAt: -1,
      noCma: false,
    };
    const ctx: InvariantCtx = { cmaLive: [[]], content: new Map([[anon.id, [st]]]) };
    checkInvariants(m.k, ctx);
    return { ...m, anon, st, ctx };
  }

  it('zone counters', () => {
    const { k, ctx } = onePage();
    k.alloc.zones[0]!.freeCma++;
    expect(() => checkInvariants(k, ctx)).toThrow(/freeCma/);
  });

  it('an unmovable page in a CMA pageblock', () => {
    const { k } = onePage();
    k.alloc.pages.kind[A_BASE] = PageKind.KERNEL;
    expect(() => checkInvariants(k)).toThrow(/unmovable kernel page in a MIGRATE_CMA pageblock/);
  });

  it('a CMA bitmap bit without an allocation', () => {
    const { k, a, ctx } = onePage();
    a.bitmap[0]! |= 1 << 5;
    expect(() => checkInvariants(k, ctx)).toThrow(/bitmap bit 5 .* set but not allocated/);
  });

  it('a page freed behind the reverse map', () => {
    const { k, ctx } = onePage();
    k.alloc.freePages(A_BASE, 0);
    expect(() => checkInvariants(k, ctx)).toThrow(/content \d+\[0\]/);
  });

  it('a head bit inside another free block', () => {
    const { k } = onePage();
    // free the page into the wrong place: a second block over already free pages
    k.alloc.freeOneBlock(A_BASE + 2, 1);
    // the sets (lowest-pfn) see a head over free pages; the kernel's lists a block linked twice
    expect(() => checkInvariants(k)).toThrow(/free lists|nrFree|linked list/);
  });

  it('migration that loses PG_mlocked', () => {
    const { k, clock, a, ctx } = onePage(true);
    const copy = PageArrays.prototype.copyContent;
    PageArrays.prototype.copyContent = function (from, to) {
      copy.call(this, from, to);
      this.flags[to]! &= ~PG_MLOCKED;
    };
    try {
      const r = drive(cmaAlloc(k, a, 512, 0), clock);
      ctx.cmaLive![0]!.push({ pfn: r.pfn, count: 512 });
      expect(() => checkInvariants(k, ctx)).toThrow(/PG_mlocked is false, expected true/);
    } finally {
      PageArrays.prototype.copyContent = copy;
    }
  });

  /** A long-term pin holder over the one page, registered as pin_holder.ts does. */
  function longPin(k: Kernel, st: ContentState) {
    k.alloc.pages.addPins(A_BASE, 1);
    st.pins = 1;
    st.heldAt = A_BASE;
    const h = { pid: 1, comm: 'drv', via: 'gup_test' as const, id: 1 };
    return k.pins.add({ ...h, pfns: [A_BASE], longterm: true });
  }

  it('a long-term label no live holder explains (issue #13 item 19)', () => {
    const { k, st, ctx } = onePage();
    k.alloc.pages.addPins(A_BASE, 1); // a short-term pin, no holder
    st.pins = 1;
    st.heldAt = A_BASE;
    checkInvariants(k, ctx);
    k.alloc.pages.flags[A_BASE]! |= PG_PIN_LONGTERM; // what a rolled-back FOLL_LONGTERM pin left
    expect(() => checkInvariants(k, ctx)).toThrow(
      /labelled long-term with 0 long-term holds, but the live holders give 0 \(no holder; pincount=1\)/,
    );
  });

  it('a long-term holder whose page lost its label, or its pin', () => {
    const { k, st, ctx } = onePage();
    longPin(k, st);
    checkInvariants(k, ctx);
    k.alloc.pages.flags[A_BASE]! &= ~PG_PIN_LONGTERM;
    expect(() => checkInvariants(k, ctx)).toThrow(/labelled not long-term with 1 long-term holds/);
    k.alloc.pages.flags[A_BASE]! |= PG_PIN_LONGTERM;
    k.alloc.pages.addPins(A_BASE, -1);
    st.pins = 0;
    expect(() => checkInvariants(k, ctx)).toThrow(/1 holder listings .* but pincount\+getcount 0/);
  });

  it('long-term holds that outlive their holder', () => {
    const { k, st, ctx } = onePage();
    const h = longPin(k, st);
    k.alloc.pages.addLongtermHolds(A_BASE, 1); // a second hold no holder explains
    expect(() => checkInvariants(k, ctx)).toThrow(/with 2 long-term holds, .* give 1/);
    k.alloc.pages.addLongtermHolds(A_BASE, -1);
    k.pins.remove(h);
    checkInvariants(k, ctx); // the pin stays, short of any holder: no label
    k.alloc.pages.addLongtermHolds(A_BASE, 1);
    k.alloc.pages.flags[A_BASE]! &= ~PG_PIN_LONGTERM;
    expect(() => checkInvariants(k, ctx)).toThrow(/outlived every holder/);
  });

  it('migration of a pinned page', () => {
    const { k, clock, a, st, ctx } = onePage();
    k.alloc.pages.addPins(A_BASE, 1);
    st.pins = 1;
    st.heldAt = A_BASE;
    checkInvariants(k, ctx);
    const has = PageArrays.prototype.hasExtraRefs;
    PageArrays.prototype.hasExtraRefs = () => false;
    try {
      const r = drive(cmaAlloc(k, a, 512, 0), clock);
      ctx.cmaLive![0]!.push({ pfn: r.pfn, count: 512 });
      expect(() => checkInvariants(k, ctx)).toThrow(/pincount|moved/);
    } finally {
      PageArrays.prototype.hasExtraRefs = has;
    }
  });
});
