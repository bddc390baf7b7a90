// The invariant checker of invariants.ts does detect corruption (it is not vacuous).
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../../src/kernel/kernel.js';
import { cmaAlloc } from '../../../src/kernel/mm/cma.js';
import { faultPage } from '../../../src/kernel/mm/memory.js';
import { PageArrays, PageKind, PG_MLOCKED, PG_PIN_LONGTERM } from '../../../src/kernel/mm/page.js';
import { ObjKind } from '../../../src/kernel/mm/rmap.js';
import { drive } from '../../helpers.js';
import { type ContentState, checkInvariants, type InvariantCtx } from '../invariants.js';
import { A_BASE, smallMachine } from './small.js';

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
