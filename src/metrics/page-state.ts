// What a page of a CMA area is, for the reader: free, isolated, on a per-CPU list, a CMA client's,
// movable, or pinned (short- or long-term). Written once: the snapshot's pages_by_state counts
// these states, the TUI's maps draw them.
import { PAGEBLOCK_ORDER } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import { PageKind, PG_CLEANCACHE, PG_PIN_LONGTERM } from '../kernel/mm/page.js';

/**
 * Cell states; the worst wins within a cell (cellRank): what would block an allocation there.
 * PCP (free, on a per-CPU list: policy pcp=on) came last, so its value is last, its rank second.
 */
export enum Cell {
  FREE = 0,
  CMA_CLIENT = 1,
  MOVABLE = 2,
  ISOLATED = 3,
  PINNED_SHORT = 4,
  PINNED_LONG = 5,
  PCP = 6,
}

/** How bad a cell state is: FREE < PCP < CMA_CLIENT < MOVABLE < ... < PINNED_LONG. */
export const cellRank = (c: number): number => (c === Cell.PCP ? 0.5 : c);

/** The state of page `pfn`, as the CMA map and the snapshot's pages_by_state count it. */
export function cellOf(k: Kernel, pfn: number): Cell {
  const { pages, pbIsolated } = k.alloc;
  const kind = pages.kind[pfn];
  if (kind === PageKind.FREE) return pbIsolated[pfn >> PAGEBLOCK_ORDER] ? Cell.ISOLATED : Cell.FREE;
  if (kind === PageKind.PCP) return Cell.PCP;
  if (kind === PageKind.CMA) return Cell.CMA_CLIENT;
  if (kind === PageKind.GCMA) return pages.flags[pfn]! & PG_CLEANCACHE ? Cell.MOVABLE : Cell.FREE;
  if (pages.flags[pfn]! & PG_PIN_LONGTERM) return Cell.PINNED_LONG;
  return pages.hasExtraRefs(pfn) ? Cell.PINNED_SHORT : Cell.MOVABLE;
}
