// Booting in a captured state (kernel-model.md §1.9): `machine.layout` gives the pageblocks'
// migratetypes, the free blocks per order and migratetype and the CMA bitmaps' allocated runs, as a
// device's /proc/pagetypeinfo and /sys/kernel/debug/cma/<area>/bitmap show them. The kernel builds
// a buddy state with exactly those free blocks before any task runs; every other managed page is
// in use: a kernel page in an Unmovable, Reclaimable or HighAtomic pageblock, a movable anonymous
// page of one object ('boot') in a Movable or CMA pageblock, a CMA-client page where a bitmap bit
// is set.
import {
  ConfigError,
  MAX_PAGE_ORDER,
  MT,
  MT_NAMES,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
} from '../config.js';
import { setBits } from './bitmap.js';
import type { CmaArea } from './cma_area.js';
import { PageKind } from './page.js';
import type { PageAlloc } from './page_alloc.js';
import { ObjKind, type Rmap } from './rmap.js';

/** The migratetypes a layout names pageblocks of; the other non-CMA pageblocks are Movable. */
export type LayoutPageblockType = 'Unmovable' | 'Reclaimable' | 'HighAtomic';
/** The migratetypes a layout has free blocks of (CMA: the free blocks of the CMA pageblocks). */
export type LayoutFreeType = 'Unmovable' | 'Movable' | 'Reclaimable' | 'HighAtomic' | 'CMA';

export interface BootLayout {
  /** pageblocks of these types outside CMA areas, lowest first after the reserved memory */
  pageblocks?: Partial<Record<LayoutPageblockType, number>>;
  /** free blocks per order (index 0 to 10) of each migratetype; summed over zones */
  free: Partial<Record<LayoutFreeType, number[]>>;
  /** per CMA area, the bitmap's allocated runs as [page offset in the area, pages] */
  cmaAllocated?: Record<string, [number, number][]>;
  /**
   * per CMA area, pages in use that hold a pin nobody in the model owns (a TEE or driver pin the
   * capture cannot name), spread evenly over the area's movable pages in use
   */
  cmaPinned?: Record<string, number>;
  /** where the free blocks lie (default 'top') */
  arrange?: LayoutArrange;
}

export const LAYOUT_KEYS = ['pageblocks', 'free', 'cmaAllocated', 'cmaPinned', 'arrange'] as const;

/**
 * Where the free blocks lie, which /proc/pagetypeinfo does not say: at the highest pfns of their
 * type ('top', as allocating the lowest pfns first leaves a machine), or evenly spaced among the
 * pages in use ('spread', the most fragmented).
 */
export type LayoutArrange = 'top' | 'spread';
export const LAYOUT_PAGEBLOCK_TYPES: readonly LayoutPageblockType[] = [
  'Unmovable',
  'Reclaimable',
  'HighAtomic',
];
export const LAYOUT_FREE_TYPES: readonly LayoutFreeType[] = [
  'Unmovable',
  'Movable',
  'Reclaimable',
  'HighAtomic',
  'CMA',
];

/** `n` of `list`, evenly spaced (n <= list.length). */
const evenly = <T>(list: readonly T[], n: number): T[] =>
  Array.from({ length: n }, (_, i) => list[Math.floor(((i + 0.5) * list.length) / n)]!);

const mtOf = (name: string): MT => MT_NAMES.indexOf(name) as MT;

const count = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new ConfigError(`${what} must be a non-negative integer, not ${String(v)}`);
  return v;
};

/**
 * Apply `layout` to a machine whose areas are placed and whose managed memory is [first, end)
 * (pages below `first` are reserved); `gcma` areas stay outside the buddy.
 */
export function applyLayout(
  a: PageAlloc,
  rmap: Rmap,
  areas: readonly CmaArea[],
  layout: BootLayout,
  first: number,
  end: number,
): void {
  const kind = a.pages.kind;
  const arrange = layout.arrange ?? 'top';
  if (arrange !== 'top' && arrange !== 'spread')
    throw new ConfigError(
      `machine.layout.arrange must be 'top' or 'spread', not '${String(arrange)}'`,
    );
  markCmaAllocated(a, areas, layout.cmaAllocated ?? {});
  assignPageblocks(a, layout.pageblocks ?? {}, first);
  // every managed page in use, by its pageblock's type; the free blocks are carved out below
  for (let pfn = first; pfn < end; pfn++) {
    const k = kind[pfn]!;
    if (k === PageKind.CMA || k === PageKind.GCMA) continue;
    const mt = a.pbMt[pfn >> PAGEBLOCK_ORDER]!;
    kind[pfn] = mt === MT.MOVABLE || mt === MT.CMA ? PageKind.ANON : PageKind.KERNEL;
  }
  for (const name of Object.keys(layout.free)) {
    if (!LAYOUT_FREE_TYPES.includes(name as LayoutFreeType))
      throw new ConfigError(
        `machine.layout.free: unknown migratetype '${name}' (${LAYOUT_FREE_TYPES.join(', ')})`,
      );
  }
  for (const name of LAYOUT_FREE_TYPES) {
    const counts = layout.free[name];
    if (counts === undefined) continue;
    if (!Array.isArray(counts) || counts.length !== NR_PAGE_ORDERS)
      throw new ConfigError(
        `machine.layout.free.${name} must list the free blocks of orders 0 to ${MAX_PAGE_ORDER}`,
      );
    for (const [o, c] of counts.entries()) count(c, `machine.layout.free.${name}[${o}]`);
    const mt = mtOf(name);
    const pbs: number[] = [];
    for (let pb = first >> PAGEBLOCK_ORDER; pb < end >> PAGEBLOCK_ORDER; pb++) {
      // whole pageblocks of the type, in the buddy: not reserved, not a GCMA area
      if (a.pbMt[pb] !== mt || pb << PAGEBLOCK_ORDER < first) continue;
      if (kind[pb << PAGEBLOCK_ORDER] === PageKind.GCMA) continue;
      pbs.push(pb);
    }
    carve(a, name, pbs, counts, arrange);
  }
  ownBootPages(a, rmap, first, end);
  pinInCma(a, areas, layout.cmaPinned ?? {});
}

/** The movable pages in use belong to one anonymous object that migration can move (§3.1). */
function ownBootPages(a: PageAlloc, rmap: Rmap, first: number, end: number): void {
  const kind = a.pages.kind;
  let n = 0;
  for (let pfn = first; pfn < end; pfn++) if (kind[pfn] === PageKind.ANON) n++;
  if (n === 0) return;
  const obj = rmap.create(ObjKind.ANON, n, 'boot');
  obj.users = 1;
  let i = 0;
  for (let pfn = first; pfn < end; pfn++) {
    if (kind[pfn] !== PageKind.ANON) continue;
    obj.pages[i] = pfn;
    rmap.setOwner(pfn, obj, i++);
  }
  obj.nrResident = n;
}

/** Pins on `n` in-use movable pages of each named area, evenly spaced (§3.2: they cannot move). */
function pinInCma(a: PageAlloc, areas: readonly CmaArea[], pinned: Record<string, number>): void {
  for (const [name, n] of Object.entries(pinned)) {
    const area = areas.find((c) => c.name === name);
    if (!area) throw new ConfigError(`machine.layout.cmaPinned: unknown CMA area '${name}'`);
    count(n, `machine.layout.cmaPinned.${name}`);
    const inUse: number[] = [];
    for (let pfn = area.basePfn; pfn < area.basePfn + area.count; pfn++)
      if (a.pages.kind[pfn] === PageKind.ANON) inUse.push(pfn);
    if (n > inUse.length)
      throw new ConfigError(
        `machine.layout.cmaPinned.${name}: ${n} pinned pages, but the area has ${inUse.length} movable pages in use`,
      );
    for (const pfn of evenly(inUse, n)) a.pages.addPins(pfn, 1);
  }
}

/** The CMA bitmap's allocated runs: bits set, pages handed to a client (§2.2). */
function markCmaAllocated(
  a: PageAlloc,
  areas: readonly CmaArea[],
  runs: Record<string, [number, number][]>,
): void {
  for (const [name, list] of Object.entries(runs)) {
    const area = areas.find((c) => c.name === name);
    if (!area) throw new ConfigError(`machine.layout.cmaAllocated: unknown CMA area '${name}'`);
    if (area.gcma) throw new ConfigError(`machine.layout.cmaAllocated: '${name}' is a GCMA area`);
    const unit = 1 << area.orderPerBit;
    for (const run of list) {
      const [off, pages] = run;
      const what = `machine.layout.cmaAllocated.${name} run [${off}, ${pages}]`;
      count(off, what);
      count(pages, what);
      if (off % unit || pages % unit || pages === 0 || off + pages > area.count)
        throw new ConfigError(
          `${what} is not inside the area in whole bits of ${unit} pages (order_per_bit ${area.orderPerBit})`,
        );
      setBits(area.bitmap, off / unit, pages / unit, true);
      area.availableCount -= pages;
      a.pages.kind.fill(PageKind.CMA, area.basePfn + off, area.basePfn + off + pages);
    }
  }
}

/** The named pageblock types on the lowest whole non-CMA pageblocks of the normal zone. */
function assignPageblocks(
  a: PageAlloc,
  counts: Partial<Record<LayoutPageblockType, number>>,
  first: number,
): void {
  let pb = (first + PAGEBLOCK_NR_PAGES - 1) >> PAGEBLOCK_ORDER;
  const top = a.movableStartPfn >> PAGEBLOCK_ORDER;
  for (const name of Object.keys(counts)) {
    if (!LAYOUT_PAGEBLOCK_TYPES.includes(name as LayoutPageblockType))
      throw new ConfigError(
        `machine.layout.pageblocks: '${name}' is not one of ${LAYOUT_PAGEBLOCK_TYPES.join(', ')} (the rest are Movable)`,
      );
  }
  for (const name of LAYOUT_PAGEBLOCK_TYPES) {
    let n = count(counts[name] ?? 0, `machine.layout.pageblocks.${name}`);
    for (; n > 0 && pb < top; pb++) {
      if (a.pbMt[pb] === MT.CMA) continue;
      a.pbMt[pb] = mtOf(name);
      n--;
    }
    if (n > 0)
      throw new ConfigError(`machine.layout.pageblocks: no room for ${n} more ${name} pageblocks`);
  }
}

/**
 * Free `counts[o]` blocks of each order o in the pageblocks `pbs` (ascending) of one type. The
 * blocks form a buddy tree: an order-10 node is a pair of pageblocks (a pageblock without its pair
 * is an order-9 node); each node is free, in use, or split in two. A free node's buddy is never a
 * free node of its order (they would have merged, §1.4), so it is split or in use; splitting only
 * as many nodes as the orders below need leaves the rest in use. `arrange` says where the free
 * nodes go among the candidates of each order: the highest first ('top'), or evenly spaced.
 */
function carve(
  a: PageAlloc,
  name: string,
  pbs: number[],
  counts: readonly number[],
  arrange: LayoutArrange,
): void {
  // split[o]: nodes of order o to split so that the orders below fit (each split node gives a
  // pair of buddies: one of them may be free, the other split further)
  const split = new Array<number>(NR_PAGE_ORDERS).fill(0);
  for (let o = 1; o <= MAX_PAGE_ORDER; o++)
    split[o] = Math.max(counts[o - 1]!, Math.ceil((counts[o - 1]! + split[o - 1]!) / 2));
  const inPbs = new Set(pbs);
  let nodes: number[] = []; // heads of the nodes of the current order, ascending
  const lone: number[] = []; // pageblocks without their pair: order-9 nodes with no buddy here
  for (const pb of pbs) {
    if (pb % 2 === 0 && inPbs.has(pb + 1)) nodes.push(pb << PAGEBLOCK_ORDER);
    else if (pb % 2 === 0 || !inPbs.has(pb - 1)) lone.push(pb << PAGEBLOCK_ORDER);
  }
  const kind = a.pages.kind;
  // only CMA pageblocks hold clients' pages, which no free block may cover
  const usable = (pfn: number, order: number): boolean => {
    if (name !== 'CMA') return true;
    for (let p = pfn; p < pfn + (1 << order); p++) if (kind[p] === PageKind.CMA) return false;
    return true;
  };
  const pick = <T>(list: T[], n: number): T[] =>
    n === 0 ? [] : arrange === 'spread' ? evenly(list, n) : list.slice(list.length - n);
  for (let o = MAX_PAGE_ORDER; o >= 0; o--) {
    if (o === PAGEBLOCK_ORDER) nodes = [...nodes, ...lone].sort((x, y) => x - y);
    const size = 1 << o;
    const present = new Set(nodes);
    // one candidate per pair of buddies (order 10 never merges; a lone pageblock's buddy is of
    // another type): the upper one if it may be free, else the lower
    const cands: number[] = [];
    for (const pfn of nodes) {
      const buddy = pfn ^ size;
      const paired = o < MAX_PAGE_ORDER && present.has(buddy);
      if (!paired) {
        if (usable(pfn, o)) cands.push(pfn);
      } else if (pfn < buddy) {
        if (usable(buddy, o)) cands.push(buddy);
        else if (usable(pfn, o)) cands.push(pfn);
      }
    }
    cands.sort((x, y) => x - y);
    const want = counts[o]!;
    if (want > cands.length)
      throw new ConfigError(
        `machine.layout.free.${name}: ${want - cands.length} of the ${want} free order-${o} blocks do not fit in the ${pbs.length} ${name} pageblocks`,
      );
    const freed = new Set(pick(cands, want));
    for (const pfn of freed) a.layoutFree(pfn, o);
    if (o === 0) break;
    // split nodes not freed (those without a client's page first), the rest stay in use
    const rest = nodes.filter((p) => !freed.has(p));
    const clean = rest.filter((p) => usable(p, o));
    const n = Math.min(split[o]!, rest.length);
    const chosen =
      n <= clean.length
        ? pick(clean, n)
        : [...clean, ...rest.filter((p) => !usable(p, o)).slice(0, n - clean.length)];
    const next: number[] = [];
    for (const pfn of chosen.sort((x, y) => x - y)) next.push(pfn, pfn + (size >> 1));
    nodes = next;
  }
}
