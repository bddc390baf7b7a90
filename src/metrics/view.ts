// What only the live TUI needs on top of the snapshot: a coarse map of each CMA area and the tail
// of the trace buffer.
import type { Kernel } from '../kernel/kernel.js';
import type { CmaArea } from '../kernel/mm/cma.js';
import { PageKind, PG_CLEANCACHE, PG_PIN_LONGTERM } from '../kernel/mm/page.js';

/** Cell states, worst first wins within a cell: what would block an allocation there. */
export enum Cell {
  FREE = 0,
  CMA_CLIENT = 1,
  MOVABLE = 2,
  ISOLATED = 3,
  PINNED_SHORT = 4,
  PINNED_LONG = 5,
}

export interface View {
  /**
   * Per CMA area, one Cell per `pagesPerCell` pages, and `movableRun`: the longest run of pages
   * that are free or movable (not handed out, pinned or isolated), the most that
   * alloc_contig_range could take there now, alignment aside (spec §2.4).
   */
  maps: Record<string, { pagesPerCell: number; cells: number[]; movableRun: number }>;
  /** the newest trace lines, oldest first */
  trace: string[];
}

function cellOf(k: Kernel, pfn: number): Cell {
  const { pages, pbIsolated } = k.alloc;
  const kind = pages.kind[pfn];
  if (kind === PageKind.FREE) return pbIsolated[pfn >> 9] ? Cell.ISOLATED : Cell.FREE;
  if (kind === PageKind.CMA) return Cell.CMA_CLIENT;
  if (kind === PageKind.GCMA) return pages.flags[pfn]! & PG_CLEANCACHE ? Cell.MOVABLE : Cell.FREE;
  if (pages.flags[pfn]! & PG_PIN_LONGTERM) return Cell.PINNED_LONG;
  return pages.hasExtraRefs(pfn) ? Cell.PINNED_SHORT : Cell.MOVABLE;
}

/** A map of `cells` cells of an area; each shows the worst state among its pages. */
export function cmaMap(k: Kernel, cma: CmaArea, cells: number): View['maps'][string] {
  const pagesPerCell = Math.max(1, Math.ceil(cma.count / cells));
  const out: number[] = [];
  let run = 0;
  let movableRun = 0;
  for (let first = cma.basePfn; first < cma.basePfn + cma.count; first += pagesPerCell) {
    let worst = Cell.FREE;
    const end = Math.min(first + pagesPerCell, cma.basePfn + cma.count);
    for (let pfn = first; pfn < end; pfn++) {
      const c = cellOf(k, pfn);
      if (c > worst) worst = c;
      run = c === Cell.FREE || c === Cell.MOVABLE ? run + 1 : 0;
      if (run > movableRun) movableRun = run;
    }
    out.push(worst);
  }
  return { pagesPerCell, cells: out, movableRun };
}

export function view(k: Kernel, cells: number, traceLines: number): View {
  const maps = Object.fromEntries(k.cma.map((c) => [c.name, cmaMap(k, c, cells)])); // any name
  return { maps, trace: k.trace.records(traceLines).map((r) => k.trace.line(r)) };
}
