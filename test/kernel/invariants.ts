// Whole-machine invariants of the memory core (kernel-model.md §1–§3), checked by walking every pfn.
// `checkInvariants(k, ctx)` throws a descriptive Error on the first violation. The structural
// checks need only the kernel; the optional `ctx` adds what a test driver knows about the
// allocations and user-page contents it made, so that counts can be compared exactly.
//
//  1. every page is free ⇔ it lies in exactly one free buddy block; blocks are aligned, inside
//     memory and one zone, and join pageblocks of different types only if both are PCP types;
//     a free page holds no pin or reference;
//  2. zone.freePages/freeCma, the avail bits, each (type, order) list (its blocks, each once:
//     lowest first for the sets; placement=kernel's linked lists link back and end at their
//     tail) and the per-pageblock free counts agree with the free blocks (isolated ones count
//     nowhere);
//  3. nr_free_cma = free pages in non-isolated CMA pageblocks; CMA pageblocks are exactly the
//     CMA areas; no pageblock stays isolated between operations;
//  4. per CMA area: bitmap (in units of 2^order_per_bit pages) = the live allocations,
//     available_count = count - their pages, CMA-client pages = exactly their pages;
//  5. kernel (unmovable) pages never in a CMA pageblock or ZONE_MOVABLE, nor user pages faulted
//     under PF_MEMALLOC_PIN or migrated with GFP_USER;
//  6. user pages and their object's index map to each other (pinned orphans aside); with ctx,
//     PG_mlocked, PG_dirty, pin and get counts travel with the content, referenced pages never
//     move, and only clean unlocked unreferenced page cache ever disappears;
//  7. free + allocated pages (per kind) = managed + boot-reserved pages; with ctx, kernel and
//     CMA-client pages equal what the driver allocated;
//  8. pin labels follow the live pin holders: recomputed from k.pins, a page is labelled
//     long-term (PG_PIN_LONGTERM) exactly when a registered FOLL_LONGTERM holder lists it, and
//     its long-term hold count is the number of such listings; every page a holder lists is
//     allocated and holds at least that many references (long-term listings: FOLL_PIN pins).
//     Pins still in flight (taken, holder not yet registered) count as references, never as
//     long-term labels;
//  9. with pcp=on, every page of kind pcp is on exactly one per-CPU list, in a block of the
//     list's order in the list's zone (a CMA page only on a MOVABLE list); the lists link back;
//     each CPU's count is the pages on its lists (NR_FREE_PAGES counts none of them: 2, 3).
import {
  MAX_PAGE_ORDER,
  MIGRATE_TYPES,
  MT,
  MT_NAMES,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
} from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import {
  NO_OWNER,
  PAGE_KIND_NAMES,
  PageKind,
  PG_DIRTY,
  PG_MLOCKED,
  PG_PIN_LONGTERM,
  PG_REFS,
} from '../../src/kernel/mm/page.js';
import type { PageAlloc, Zone } from '../../src/kernel/mm/page_alloc.js';
import { MIGRATE_PCPTYPES, PAGE_ALLOC_COSTLY_ORDER } from '../../src/kernel/mm/pcp.js';
import { type MemObject, ObjKind } from '../../src/kernel/mm/rmap.js';

/** One successful cma_alloc that has not been released. */
export interface LiveCma {
  pfn: number;
  count: number;
}

/** A live alloc_pages(order, GFP_KERNEL) block. */
export interface KernelBlock {
  pfn: number;
  order: number;
}

/** What the driver expects of one user page's content (object, index). */
export interface ContentState {
  kind: ObjKind;
  mlocked: boolean;
  dirty: boolean;
  /** FOLL_PIN references held on the page */
  pins: number;
  /** transient FOLL_GET / O_DIRECT references held on the page */
  gets: number;
  /** the pfn the page had when the first reference was taken: referenced pages never move */
  heldAt: number;
  /** faulted under PF_MEMALLOC_PIN or last migrated with GFP_USER: never CMA or ZONE_MOVABLE */
  noCma: boolean;
}

export interface InvariantCtx {
  /** live allocations per CMA area, indexed like k.cma */
  cmaLive?: LiveCma[][];
  /** live unmovable kernel blocks */
  kernelBlocks?: KernelBlock[];
  /**
   * Every resident user page: per object id, the state of each index (undefined: not resident).
   * Entries of clean, unreferenced, unlocked page-cache pages that reclaim dropped (§2.4
   * reclaim_clean_pages_from_list) are pruned by the checker; any other vanished content is a
   * violation, and so is a resident page the driver does not know.
   */
  content?: Map<number, (ContentState | undefined)[]>;
  /** also test every (pfn, order) head bit, not only the heads the ascending walk meets */
  exhaustive?: boolean;
}

// Imported bindings become getter calls under vitest's module runner: copy the constants the
// hot loops use.
const UNOWNED: number = NO_OWNER;
const FREE: number = PageKind.FREE;
const ANON: number = PageKind.ANON;
const FILE: number = PageKind.FILE;
const KERNEL: number = PageKind.KERNEL;
const CMA_CLIENT: number = PageKind.CMA;
const PCP: number = PageKind.PCP;
/** the per-CPU lists per (zone, cpu): MIGRATE_PCPTYPES per order 0..PAGE_ALLOC_COSTLY_ORDER */
const NR_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
const OBJ_ANON: ObjKind = ObjKind.ANON;
const OBJ_FILE: ObjKind = ObjKind.FILE;
const MT_CMA: number = MT.CMA;
const MT_ISOLATE: number = MT.ISOLATE;
const MT_HIGHATOMIC: number = MT.HIGHATOMIC;
const PB_ORDER = PAGEBLOCK_ORDER;
const PB_PAGES = PAGEBLOCK_NR_PAGES;
const MAX_ORDER = MAX_PAGE_ORDER;
const NR_ORDERS = NR_PAGE_ORDERS;
const NR_MT = MIGRATE_TYPES;
const MLOCKED = PG_MLOCKED;
const DIRTY = PG_DIRTY;
const LONGTERM = PG_PIN_LONGTERM;

const bit = (map: Uint32Array, i: number): boolean => ((map[i >>> 5]! >>> (i & 31)) & 1) !== 0;

const what = (obj: MemObject, idx: number) => `content ${obj.id}[${idx}] (${obj.label})`;

const hex = (n: number) => `0x${n.toString(16)}`;

function fail(msg: string): never {
  throw new Error(`invariant violated: ${msg}`);
}

const isMergeable = (mt: number) => mt < MT_HIGHATOMIC;

/** Check invariants 1–9 (file header); throws on the first violation. */
export function checkInvariants(k: Kernel, ctx: InvariantCtx = {}): void {
  checkPageblocks(k);
  const count = checkFreeBlocksAndPages(k, ctx.exhaustive);
  checkConservation(k, ctx, count.byKind);
  checkCma(k, ctx, count.byKind);
  checkContent(k, ctx, count);
  checkPinLabels(k);
  checkPcpLists(k, count.byKind[PCP]!);
}

/** Invariant 9: the per-CPU lists hold exactly the pages of kind pcp, each once. */
export function checkPcpLists(k: Kernel, pcpPages: number): void {
  const a = k.alloc;
  const pcp = a.pcp;
  if (pcp === null) {
    if (pcpPages) fail(`${pcpPages} pages of kind pcp but pcp=off`);
    return;
  }
  const seen = new Uint8Array(a.endPfn);
  let listed = 0;
  for (let z = 0; z < a.zones.length; z++) {
    for (let cpu = 0; cpu < pcp.cpus; cpu++) {
      const base = pcp.listBase(z, cpu);
      let pages = 0;
      for (let pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
        const l = base + pindex;
        const order = Math.floor(pindex / MIGRATE_PCPTYPES);
        const what = `pcp list [zone ${z}, cpu ${cpu}, ${MT_NAMES[pindex % MIGRATE_PCPTYPES]}, order ${order}]`;
        let prev = -1;
        for (let pfn = pcp.lists.head(l); pfn >= 0; pfn = pcp.lists.after(pfn)) {
          if (seen[pfn]) fail(`${what}: ${where(k, pfn)} listed twice`);
          seen[pfn] = 1;
          if (pcp.lists.before(pfn) !== prev) fail(`${what}: ${hex(pfn)} does not link back`);
          prev = pfn;
          if (a.zones.indexOf(a.zoneOf(pfn)) !== z || pfn & ((1 << order) - 1))
            fail(`${what} has a block of another zone or a misaligned one: ${where(k, pfn)}`);
          if (a.pbMt[pfn >> PB_ORDER] === MT_CMA && pindex % MIGRATE_PCPTYPES !== MT.MOVABLE)
            fail(`${what} holds a CMA page: ${where(k, pfn)}`);
          for (let p = pfn; p < pfn + (1 << order); p++)
            if (a.pages.kind[p] !== PCP) fail(`${what} lists ${where(k, p)}`);
          pages += 1 << order;
        }
        if (pcp.lists.tail(l) !== prev) fail(`${what}: its tail is not its last block`);
      }
      if (pcp.count(z, cpu) !== pages)
        fail(`pcp [zone ${z}, cpu ${cpu}] counts ${pcp.count(z, cpu)} pages, lists ${pages}`);
      listed += pages;
    }
  }
  if (listed !== pcpPages) fail(`${pcpPages} pages of kind pcp but ${listed} on the per-CPU lists`);
}

/**
 * Invariant 8: recompute each page's pin label from the live pin holders (k.pins) and compare it
 * with PG_PIN_LONGTERM and the long-term hold counts; a holder's pages must be pinned or
 * referenced at least as often as holders list them.
 */
export function checkPinLabels(k: Kernel): void {
  const a = k.alloc;
  const pages = a.pages;
  const listed = new Map<number, number>();
  const longListed = new Map<number, number>();
  for (const h of k.pins.all()) {
    for (const pfn of h.pfns) {
      if (pfn < 0) continue; // the shared zero page: never pinned
      listed.set(pfn, (listed.get(pfn) ?? 0) + 1);
      if (h.longterm) longListed.set(pfn, (longListed.get(pfn) ?? 0) + 1);
    }
  }
  const who = (pfn: number) =>
    [...k.pins.all()]
      .filter((h) => h.pfns.includes(pfn))
      .map(
        (h) =>
          `${h.comm}/${String(typeof h.via === 'function' ? h.via() : h.via)}#${h.id}${h.longterm ? ' (long-term)' : ''}`,
      )
      .join(', ') || 'no holder';
  for (const [pfn, n] of listed) {
    if (pfn < a.startPfn || pfn >= a.endPfn)
      fail(`pin holder lists pfn ${hex(pfn)} outside memory`);
    if (pages.kind[pfn] === FREE) fail(`free ${where(k, pfn)} is listed by ${who(pfn)}`);
    const refs = pages.pincount(pfn) + pages.getcount(pfn);
    if (refs < n)
      fail(`${where(k, pfn)}: ${n} holder listings (${who(pfn)}) but pincount+getcount ${refs}`);
  }
  for (const [pfn, n] of longListed) {
    if (pages.pincount(pfn) < n)
      fail(
        `${where(k, pfn)}: ${n} long-term holders (${who(pfn)}) but pincount ${pages.pincount(pfn)}`,
      );
  }
  // the label, from the holders' side, from the flags' side (one typed-array scan) and from the
  // hold counts' side
  const flags = pages.flags;
  const label = (pfn: number, want: number) =>
    fail(
      `${where(k, pfn)}: labelled ${flags[pfn]! & LONGTERM ? 'long-term' : 'not long-term'} with ${pages.longtermHolds(pfn)} long-term holds, but the live holders give ${want} (${who(pfn)}; pincount=${pages.pincount(pfn)})`,
    );
  for (const [pfn, n] of longListed) {
    if (!(flags[pfn]! & LONGTERM) || pages.longtermHolds(pfn) !== n) label(pfn, n);
  }
  for (let pfn = a.startPfn; pfn < a.endPfn; pfn++) {
    if (flags[pfn]! & LONGTERM && !longListed.has(pfn)) label(pfn, 0);
  }
  for (const pfn of pages.longtermHeld()) {
    if (!longListed.has(pfn)) fail(`long-term holds on ${where(k, pfn)} outlived every holder`);
  }
}

const where = (k: Kernel, pfn: number): string => {
  const a = k.alloc;
  const pb = pfn >> PB_ORDER;
  const iso = a.pbIsolated[pb] ? '+isolated' : '';
  return `pfn ${hex(pfn)} (pageblock ${pb} ${MT_NAMES[a.pbMt[pb]!]}${iso}, zone ${a.zoneOf(pfn).name}, kind ${PAGE_KIND_NAMES[a.pages.kind[pfn]!]})`;
};

/** §1.2: CMA pageblocks are exactly the CMA areas, for ever; nothing stays isolated. */
export function checkPageblocks(k: Kernel): void {
  const a = k.alloc;
  for (let pb = a.startPfn >> PB_ORDER; pb < a.nrPageblocks; pb++) {
    const inArea = k.cmaOf(pb << PB_ORDER) !== undefined;
    if ((a.pbMt[pb] === MT_CMA) !== inArea) {
      fail(
        `pageblock ${pb} has type ${MT_NAMES[a.pbMt[pb]!]} but ${inArea ? 'lies' : 'does not lie'} in a CMA area`,
      );
    }
    if (a.pbIsolated[pb]) fail(`pageblock ${pb} left isolated between operations`);
  }
}

/**
 * Invariants 1, 2, 3 and the placement half of 5: walk every free-block head of every order,
 * then every page; compare the zone counters, free lists and per-pageblock counts.
 * Returns the number of pages of each PageKind.
 */
export function checkFreeBlocksAndPages(k: Kernel, exhaustive = false): PageCounts {
  const a = k.alloc;
  const pages = a.pages;
  const { kind, flags } = pages;
  const start = a.startPfn;
  const end = a.endPfn;
  const nPb = a.nrPageblocks;
  const movableStart = a.movableStartPfn;
  const pbMt = a.pbMt;
  const pbIso = a.pbIsolated;
  const effMt = (pb: number): number => (pbIso[pb] ? MT_ISOLATE : pbMt[pb]!);
  const zoneIdx = (pfn: number) => (pfn < movableStart ? 0 : 1);
  const nrZones = a.zones.length;
  const expFree = [0, 0];
  const expCma = [0, 0];
  const expNrFree = new Int32Array(nrZones * NR_MT * NR_ORDERS);
  /** the lowest head on each (zone, list): the first one the ascending walk meets */
  const expLowest = new Int32Array(nrZones * NR_MT * NR_ORDERS).fill(-1);
  const expPbFree = new Int32Array(nPb);
  const objs: (MemObject | undefined)[] = [];
  for (const o of k.rmap.all()) objs[o.id] = o;
  const byKind = PAGE_KIND_NAMES.map(() => 0);
  let orphans = 0;
  let freeCmaPages = 0;
  let nrBlocks = 0;

  // One ascending walk: a free page starts the smallest free block containing it, and the walk
  // jumps past that block; every other page is checked as an allocated page. A second head
  // covering a page (overlap) or a head on an allocated page makes the per-list block counts
  // disagree with the lists below, and the exhaustive scan then names it.
  let pfn = start;
  while (pfn < end) {
    const kd = kind[pfn]!;
    if (kd === PCP) {
      byKind[PCP]!++; // invariant 9
      pfn++;
      continue;
    }
    if (kd !== FREE) {
      if (checkAllocatedPage(k, objs, pfn, kd)) orphans++;
      byKind[kd]!++;
      pfn++;
      continue;
    }
    let o = 0;
    while (o <= MAX_ORDER && !a.isFreeHead(pfn & ~((1 << o) - 1), o)) o++;
    if (o > MAX_ORDER) fail(`free page not in any free buddy block: ${where(k, pfn)}`);
    const size = 1 << o;
    const head = pfn & ~(size - 1);
    const last = head + size - 1;
    if (head !== pfn) {
      fail(
        `free block ${hex(head)} order ${o} covers ${where(k, head)}, an allocated page or one of another free block`,
      );
    }
    if (last >= end) fail(`free block ${hex(head)} order ${o} runs past the end of memory`);
    const z = zoneIdx(head);
    if (z !== zoneIdx(last)) fail(`free block ${hex(head)} order ${o} crosses a zone boundary`);
    const headPb = head >> PB_ORDER;
    const mt = effMt(headPb);
    for (let pb = headPb + 1; pb <= last >> PB_ORDER; pb++) {
      const other = effMt(pb);
      if (other !== mt && (!isMergeable(mt) || !isMergeable(other))) {
        fail(
          `free block ${hex(head)} order ${o} joins pageblock ${headPb} (${MT_NAMES[mt]}) and ${pb} (${MT_NAMES[other]})`,
        );
      }
    }
    for (let p = head; p <= last; p++) {
      if (kind[p] !== FREE)
        fail(`allocated page inside free block ${hex(head)} order ${o}: ${where(k, p)}`);
      // only `kind` is maintained on free pages (page.ts), but a page must never be freed while
      // pinned or referenced: the next allocation would inherit the references
      if (flags[p]! & PG_REFS) {
        fail(
          `free page ${hex(p)} still holds references: pincount=${pages.pincount(p)} getcount=${pages.getcount(p)}`,
        );
      }
    }
    nrBlocks++;
    byKind[FREE]! += size;
    if (mt !== MT_ISOLATE) expFree[z]! += size;
    if (mt === MT_CMA) expCma[z]! += size;
    const zl = (z * NR_MT + mt) * NR_ORDERS + o;
    expNrFree[zl]!++;
    if (expLowest[zl] === -1) expLowest[zl] = head;
    const perPb = Math.min(size, PB_PAGES);
    for (let pb = headPb; pb <= last >> PB_ORDER; pb++) {
      expPbFree[pb]! += perPb;
      if (pbMt[pb] === MT_CMA && !pbIso[pb]) freeCmaPages += perPb;
    }
    pfn = last + 1;
  }
  // the sparse pin/get counts belong to allocated pages flagged PG_REFS (a page freed with
  // references and reallocated has its flags reset, so look from the counts' side too)
  for (const p of pages.referenced()) {
    if (kind[p] === FREE || !(flags[p]! & PG_REFS))
      fail(
        `pincount=${pages.pincount(p)} getcount=${pages.getcount(p)} outlived ${where(k, p)}: freed, or PG_REFS lost`,
      );
  }
  let listed = 0;
  for (const zone of a.zones)
    for (let mt = 0; mt < NR_MT; mt++)
      for (let o = 0; o <= MAX_ORDER; o++) listed += listWalk(a, zone, mt, o, nrBlocks).length;
  if (exhaustive || listed !== nrBlocks) exhaustiveHeadScan(k, nrBlocks);

  // invariant 2: zone counters, per-type block counts, the list structure, pbFree
  for (let z = 0; z < nrZones; z++) {
    const zone = a.zones[z]!;
    if (zone.freePages !== expFree[z])
      fail(`zone ${zone.name}: freePages ${zone.freePages} != ${expFree[z]} on its free lists`);
    if (zone.freeCma !== expCma[z])
      fail(`zone ${zone.name}: freeCma ${zone.freeCma} != ${expCma[z]} on its CMA free lists`);
    for (let mt = 0; mt < NR_MT; mt++) {
      for (let o = 0; o <= MAX_ORDER; o++) {
        const want = expNrFree[(z * NR_MT + mt) * NR_ORDERS + o]!;
        if (((zone.avail[mt]! >> o) & 1) !== (want > 0 ? 1 : 0))
          fail(
            `zone ${zone.name}: avail bit [${MT_NAMES[mt]}, order ${o}] disagrees with its list`,
          );
        // every listed block is a free head of this zone and type, listed once; the sets list
        // lowest first, so the first is their answer (§1.4 lowest PFN); the kernel's lists have
        // their own order (the scripted test in property/kernel-lists.test.ts)
        const lowest = expLowest[(z * NR_MT + mt) * NR_ORDERS + o]!;
        const sorted = a.placement !== 'kernel';
        const what = `zone ${zone.name}: list [${MT_NAMES[mt]}, order ${o}]`;
        const seen = new Set<number>();
        let listed = 0;
        let prev = -1;
        for (const head of listWalk(a, zone, mt, o, want)) {
          if (sorted && listed === 0 && head !== lowest)
            fail(`${what} starts at ${hex(head)}, not at its lowest head ${hex(lowest)}`);
          if (sorted ? head <= prev : seen.has(head))
            fail(`${what} lists ${hex(head)} after ${hex(prev)}`);
          if (!a.isFreeHead(head, o) || effMt(head >> PB_ORDER) !== mt || zoneIdx(head) !== z)
            fail(`${what} has stale block ${hex(head)}: ${where(k, head)}`);
          seen.add(head);
          prev = head;
          listed++;
        }
        if (listed !== want)
          fail(
            `zone ${zone.name}: nr_free[${MT_NAMES[mt]}, order ${o}] = ${listed} but there are ${want} such free blocks`,
          );
      }
    }
  }
  for (let pb = 0; pb < nPb; pb++) {
    if (a.pbFreePages(pb) !== expPbFree[pb])
      fail(`pageblock ${pb} counts ${a.pbFreePages(pb)} free pages but has ${expPbFree[pb]}`);
  }

  // invariant 3: the global counters
  const [nrFree, nrFreeCma] = a.freeCounts();
  if (nrFreeCma !== freeCmaPages)
    fail(`nr_free_cma ${nrFreeCma} != ${freeCmaPages} free pages in non-isolated CMA pageblocks`);
  if (nrFree !== byKind[FREE]) fail(`nr_free_pages ${nrFree} but ${byKind[FREE]} pages are free`);
  return { byKind, orphans };
}

/**
 * The heads on one free list in list order, at most max + 1 of them (so that a cycle cannot hang
 * the checker). The kernel's linked lists must also link back: each block's prev is the one
 * before it, the head's is -1, and the list's tail is its last block.
 */
function listWalk(a: PageAlloc, zone: Zone, mt: number, o: number, max: number): number[] {
  const out: number[] = [];
  for (const head of a.freeBlocks(zone, mt, o)) {
    out.push(head);
    if (out.length > max) return out;
  }
  const fl = a.freeLists;
  if (fl === null) return out;
  const what = `zone ${zone.name}: linked list [${MT_NAMES[mt]}, order ${o}]`;
  let prev = -1;
  for (const head of out) {
    if (fl.before(head) !== prev)
      fail(`${what}: ${hex(head)} links back to ${hex(fl.before(head))}, not ${hex(prev)}`);
    prev = head;
  }
  const tail = fl.tail(zone.listBase + mt * NR_ORDERS + o);
  if (tail !== prev) fail(`${what}: tail ${hex(tail)} but the walk ends at ${hex(prev)}`);
  return out;
}

/** Pages per PageKind, and the user pages that outlived their object (pinned, owner 0). */
export interface PageCounts {
  byKind: number[];
  orphans: number;
}

/**
 * A user page maps back to its object; unmovable pages are never in CMA or ZONE_MOVABLE.
 * Returns true for a user page whose object is gone but a pin or reference keeps it (putObject).
 */
function checkAllocatedPage(
  k: Kernel,
  objs: (MemObject | undefined)[],
  pfn: number,
  kd: number,
): boolean {
  const a = k.alloc;
  if (kd === ANON || kd === FILE) {
    const slot = a.pages.slot[pfn]!;
    if (slot === UNOWNED) {
      if (!a.pages.hasExtraRefs(pfn))
        fail(`user page without an owner and without references (leaked): ${where(k, pfn)}`);
      return true;
    }
    const owner = k.rmap.ownerOf(pfn);
    if (!owner || objs[owner.id] !== owner)
      fail(`user page's rmap slot ${slot} is in no live object's range: ${where(k, pfn)}`);
    const idx = k.rmap.indexOf(pfn);
    const objKind = kd === ANON ? OBJ_ANON : OBJ_FILE;
    if (owner.kind !== objKind || owner.pages[idx] !== pfn) {
      fail(
        `user page's (owner ${owner.id}, index ${idx}) does not map back to it: ${where(k, pfn)}`,
      );
    }
  } else if (kd === KERNEL) {
    if (a.pbMt[pfn >> PB_ORDER] === MT_CMA)
      fail(`unmovable kernel page in a MIGRATE_CMA pageblock: ${where(k, pfn)}`);
    if (pfn >= a.movableStartPfn) fail(`unmovable kernel page in ZONE_MOVABLE: ${where(k, pfn)}`);
  } else if (kd === CMA_CLIENT) {
    if (!k.cmaOf(pfn)) fail(`CMA-client page outside every CMA area: ${where(k, pfn)}`);
  } else {
    fail(`unknown page kind ${kd} at ${hex(pfn)}`);
  }
  return false;
}

/** Test every (pfn, order) head bit, to name a head the ascending walk did not account for. */
function exhaustiveHeadScan(k: Kernel, nrBlocks: number): void {
  const a = k.alloc;
  const end = a.endPfn;
  let heads = 0;
  for (let o = 0; o <= MAX_ORDER; o++) {
    const size = 1 << o;
    const bitsEnd = ((((end >> o) + 31) >>> 5) << 5) << o; // bits past the end must be clear
    for (let pfn = 0; pfn < bitsEnd; pfn += size) {
      if (!a.isFreeHead(pfn, o)) continue;
      heads++;
      if (pfn < a.startPfn || pfn + size > end)
        fail(`free head of order ${o} at ${hex(pfn)} outside memory`);
      const blk = a.freeBlockOf(pfn);
      if (a.pages.kind[pfn] !== FREE || !blk || blk[0] !== pfn || blk[1] !== o) {
        fail(
          `stray free head of order ${o} at ${where(k, pfn)} (overlaps another free block or an allocated page)`,
        );
      }
    }
  }
  // heads and lists move together (linkHead/unlinkHead): a block listed twice shows up as a
  // per-list count mismatch, checked next by the caller
  if (heads !== nrBlocks)
    fail(`${heads} free-head bits but the walk found ${nrBlocks} free blocks`);
}

/** Invariant 7: free + allocated (by kind) = managed (+ boot-reserved) pages. */
export function checkConservation(k: Kernel, ctx: InvariantCtx, byKind: number[]): void {
  const a = k.alloc;
  const managed = a.zones.reduce((s, z) => s + z.managedPages, 0);
  const total = byKind.reduce((s, n) => s + n, 0);
  if (total !== managed + k.reservedPages) {
    fail(
      `conservation: pages by kind ${JSON.stringify(byKind)} (free/anon/file/kernel/cma) sum to ${total}, not managed ${managed} + reserved ${k.reservedPages}`,
    );
  }
  if (!ctx.kernelBlocks) return;
  const want = k.reservedPages + ctx.kernelBlocks.reduce((s, b) => s + (1 << b.order), 0);
  if (byKind[KERNEL] !== want)
    fail(`${byKind[KERNEL]} kernel pages but ${want} allocated (incl. boot-reserved)`);
  for (const b of ctx.kernelBlocks) {
    for (let p = b.pfn; p < b.pfn + (1 << b.order); p++) {
      if (a.pages.kind[p] !== KERNEL)
        fail(`kernel block ${hex(b.pfn)} order ${b.order} lost its page ${where(k, p)}`);
    }
  }
}

/** Invariant 4: bitmaps, available_count and client pages against the live allocations. */
export function checkCma(k: Kernel, ctx: InvariantCtx, byKind: number[]): void {
  const kind = k.alloc.pages.kind;
  let liveTotal = 0;
  for (const c of k.cma) {
    const opb = c.orderPerBit;
    const maxno = c.maxno;
    for (let b = maxno; b < c.bitmap.length * 32; b++) {
      if (bit(c.bitmap, b)) fail(`CMA '${c.name}': bitmap bit ${b} set beyond maxno ${maxno}`);
    }
    const live = ctx.cmaLive?.[c.id];
    if (!live) {
      for (let pfn = c.basePfn; pfn < c.basePfn + c.count; pfn++) {
        if (kind[pfn] === CMA_CLIENT && !bit(c.bitmap, (pfn - c.basePfn) >> opb))
          fail(`CMA '${c.name}': client page ${hex(pfn)} has its bitmap bit clear`);
      }
      if (c.availableCount < 0 || c.availableCount > c.count)
        fail(`CMA '${c.name}': availableCount ${c.availableCount} out of range`);
      continue;
    }
    const bits = new Uint8Array(maxno);
    const client = new Uint8Array(c.count);
    let used = 0;
    for (const l of live) {
      const off = l.pfn - c.basePfn;
      if (off < 0 || off + l.count > c.count)
        fail(`CMA '${c.name}': live allocation ${hex(l.pfn)}+${l.count} outside the area`);
      used += l.count;
      const b0 = off >> opb;
      for (let b = b0; b < b0 + Math.ceil(l.count / (1 << opb)); b++) {
        if (bits[b]) fail(`CMA '${c.name}': live allocations overlap at bit ${b}`);
        bits[b] = 1;
      }
      client.fill(1, off, off + l.count);
    }
    for (let b = 0; b < maxno; b++) {
      if (bit(c.bitmap, b) !== (bits[b] === 1)) {
        fail(
          `CMA '${c.name}': bitmap bit ${b} (pfn ${hex(c.basePfn + (b << opb))}) is ${bits[b] ? 'clear but allocated' : 'set but not allocated'}`,
        );
      }
    }
    for (let p = 0; p < c.count; p++) {
      if ((kind[c.basePfn + p] === CMA_CLIENT) !== (client[p] === 1)) {
        fail(
          `CMA '${c.name}': ${where(k, c.basePfn + p)} ${client[p] ? 'belongs to a live allocation but is not a client page' : 'is a client page outside every live allocation'}`,
        );
      }
    }
    if (c.availableCount !== c.count - used)
      fail(
        `CMA '${c.name}': availableCount ${c.availableCount} != count ${c.count} - used ${used}`,
      );
    liveTotal += used;
  }
  if (ctx.cmaLive && byKind[CMA_CLIENT] !== liveTotal)
    fail(`${byKind[CMA_CLIENT]} CMA-client pages but ${liveTotal} pages allocated`);
}

/** Invariants 5 and 6: rmap objects, and the content, flags and references the driver expects. */
export function checkContent(k: Kernel, ctx: InvariantCtx, { byKind, orphans }: PageCounts): void {
  const a = k.alloc;
  const pages = a.pages;
  const { kind, flags } = pages;
  let resident = 0;
  for (const obj of k.rmap.all()) {
    const wantKind = obj.kind === OBJ_ANON ? ANON : FILE;
    const states = ctx.content?.get(obj.id);
    let n = 0;
    const objPages = obj.pages;
    for (let idx = 0; idx < objPages.length; idx++) {
      const pfn = objPages[idx]!;
      const st = states?.[idx];
      if (pfn < 0) {
        if (!st) continue;
        if (st.kind !== OBJ_FILE || st.dirty || st.mlocked || st.pins + st.gets > 0) {
          fail(
            `${what(obj, idx)} vanished (dirty=${st.dirty} mlocked=${st.mlocked} pins=${st.pins} gets=${st.gets}): only clean, unlocked, unreferenced page cache may be dropped`,
          );
        }
        states![idx] = undefined; // dropped by reclaim_clean_pages_from_list
        continue;
      }
      n++;
      if (pfn < a.startPfn || pfn >= a.endPfn)
        fail(`${what(obj, idx)} maps pfn ${pfn} outside memory`);
      if (kind[pfn] !== wantKind || k.rmap.ownerOf(pfn) !== obj || k.rmap.indexOf(pfn) !== idx) {
        fail(
          `${what(obj, idx)} -> ${where(k, pfn)} whose owner/index is ${k.rmap.ownerId(pfn)}/${k.rmap.indexOf(pfn)}`,
        );
      }
      if (!ctx.content) continue;
      if (!st)
        fail(`${what(obj, idx)} is resident at ${where(k, pfn)} but the driver never faulted it`);
      const f = flags[pfn]!;
      if (((f & MLOCKED) !== 0) !== st.mlocked)
        fail(
          `${what(obj, idx)} at ${where(k, pfn)}: PG_mlocked is ${!st.mlocked}, expected ${st.mlocked}`,
        );
      if (((f & DIRTY) !== 0) !== st.dirty)
        fail(
          `${what(obj, idx)} at ${where(k, pfn)}: PG_dirty is ${!st.dirty}, expected ${st.dirty}`,
        );
      const pins = pages.pincount(pfn);
      const gets = pages.getcount(pfn);
      if (pins !== st.pins || gets !== st.gets) {
        fail(
          `${what(obj, idx)} at ${where(k, pfn)}: pincount/getcount ${pins}/${gets}, expected ${st.pins}/${st.gets}`,
        );
      }
      if (st.pins + st.gets > 0 && pfn !== st.heldAt)
        fail(`${what(obj, idx)}: referenced page moved from ${hex(st.heldAt)} to ${hex(pfn)}`);
      if (st.noCma) {
        if (a.pbMt[pfn >> PB_ORDER] === MT_CMA)
          fail(
            `${what(obj, idx)} (PF_MEMALLOC_PIN or GFP_USER) in a CMA pageblock: ${where(k, pfn)}`,
          );
        if (pfn >= a.movableStartPfn)
          fail(`${what(obj, idx)} (PF_MEMALLOC_PIN or GFP_USER) in ZONE_MOVABLE: ${where(k, pfn)}`);
      }
    }
    if (n !== obj.nrResident)
      fail(`object ${obj.id} (${obj.label}): nrResident ${obj.nrResident} but ${n} pages resident`);
    resident += n;
  }
  if (resident + orphans !== byKind[ANON]! + byKind[FILE]!) {
    fail(
      `${resident} resident object pages + ${orphans} orphans but ${byKind[ANON]! + byKind[FILE]!} user pages`,
    );
  }
}
