// The driver of the property test: runs generated operations (gen.ts) on a kernel, checks each
// against the oracles of oracles.ts, and keeps the state the invariants of invariants.ts need.
import { expect } from 'vitest';
import type { Kernel } from '../../../src/kernel/kernel.js';
import { cmaAlloc, cmaRelease } from '../../../src/kernel/mm/cma.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_USER } from '../../../src/kernel/mm/gfp.js';
import { faultPage, releasePage } from '../../../src/kernel/mm/memory.js';
import { migratePages } from '../../../src/kernel/mm/migrate.js';
import { PageKind, PG_DIRTY, PG_MLOCKED } from '../../../src/kernel/mm/page.js';
import { type MemObject, ObjKind } from '../../../src/kernel/mm/rmap.js';
import type { PinHolder } from '../../../src/kernel/observe/blame.js';
import { drive, type TestClock } from '../../helpers.js';
import type { ContentState, InvariantCtx, KernelBlock, LiveCma } from '../invariants.js';
import { OBJECTS, type Op, type Ref } from './gen.js';
import { checkBusyWindows, checkPlacement, expectedPlacement } from './oracles.js';
// ---- the driver --------------------------------------------------------------------------------

export class Model {
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

export const describeOp = (op: Op) => JSON.stringify(op);
