// What only the live TUI needs on top of the snapshot: a coarse map of each CMA area and the tail
// of the trace buffer and the kernel log, split into parts with a tone read from the fields.
import type { Kernel } from '../kernel/kernel.js';
import type { CmaArea } from '../kernel/mm/cma_area.js';
import { KERN_ERR, type PrintkRecord, printkTime, timestamp } from '../kernel/observe/printk.js';
import { EVENTS, type TraceLog, type TraceRecord } from '../kernel/observe/trace.js';
import { Cell, cellOf, cellRank } from './page-state.js';

export interface View {
  /**
   * Per CMA area, one Cell per `pagesPerCell` pages, and `movableRun`: the longest run of pages
   * that are free or movable (not handed out, pinned or isolated), the most that
   * alloc_contig_range could take there now, alignment aside (kernel-model.md §2.4).
   */
  maps: Record<string, { pagesPerCell: number; cells: number[]; movableRun: number }>;
  /** the newest trace records and kernel log lines, oldest first */
  events: TraceLine[];
}

/** How a line reads: a failure, a retry, a completed allocation or release, or neither. */
export type TraceTone = 'fail' | 'retry' | 'done' | 'plain';

/** A trace record (`event` system:name) or a kernel log line (`event` ''), in parts. */
export interface TraceLine {
  /** simulated ns */
  t: number;
  /** `5.622553` for a trace record, `[    5.622553]` for the kernel log */
  time: string;
  event: string;
  body: string;
  tone: TraceTone;
}

function toneOf(r: TraceRecord): TraceTone {
  switch (r.name) {
    case 'test_pages_isolated':
      return r.fields.fin_pfn < r.fields.end_pfn ? 'fail' : 'plain';
    case 'mm_migrate_pages':
      return r.fields.nr_failed > 0 ? 'fail' : 'plain';
    case 'cma_alloc_finish':
      return r.fields.errorno ? 'fail' : 'done';
    case 'cma_alloc_busy_retry':
      return 'retry';
    case 'cma_release':
      return 'done';
    default:
      return 'plain';
  }
}

const traceLine = (log: TraceLog, r: TraceRecord): TraceLine => ({
  t: r.t,
  time: timestamp(r.t).trimStart(),
  event: `${EVENTS[r.name].system}:${r.name}`,
  body: log.body(r),
  tone: toneOf(r),
});

const logLine = (r: PrintkRecord): TraceLine => ({
  t: r.t,
  time: printkTime(r.t),
  event: '',
  body: r.text,
  tone: r.level <= KERN_ERR ? 'fail' : 'plain',
});

/** A line as text. */
export const traceText = (l: TraceLine): string =>
  l.event ? `${l.time}: ${l.event}: ${l.body}` : `${l.time} ${l.body}`;

/** The newest `n` trace records and kernel log lines, in the order the kernel emitted them. */
export function traceTail(k: Kernel, n: number): TraceLine[] {
  const trace = k.trace.records(n);
  const log = k.printkLog.records().slice(-n);
  const first = k.trace.total - trace.length; // the index of trace[0] since boot
  const out: TraceLine[] = [];
  for (let i = 0, j = 0; i < trace.length || j < log.length; ) {
    if (j < log.length && (i >= trace.length || log[j]!.afterTrace <= first + i))
      out.push(logLine(log[j++]!));
    else out.push(traceLine(k.trace, trace[i++]!));
  }
  return out.slice(-n);
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
      if (cellRank(c) > cellRank(worst)) worst = c;
      run = c === Cell.FREE || c === Cell.PCP || c === Cell.MOVABLE ? run + 1 : 0;
      if (run > movableRun) movableRun = run;
    }
    out.push(worst);
  }
  return { pagesPerCell, cells: out, movableRun };
}

export function view(k: Kernel, cells: number, traceLines: number): View {
  const maps = Object.fromEntries(k.cma.map((c) => [c.name, cmaMap(k, c, cells)])); // any name
  const events = traceTail(k, traceLines);
  return { maps, events };
}
