// Trace events in the kernel's tracepoint formats (spec §2.6), kept in a ring buffer like the
// ftrace buffer: records are stored raw and formatted on read.
import type { KernelVersion } from '../config.js';

export type TraceName =
  | 'cma_alloc_start'
  | 'cma_alloc_busy_retry'
  | 'cma_alloc_finish'
  | 'cma_release'
  | 'test_pages_isolated'
  | 'mm_migrate_pages'
  | 'pr_err';

export interface TraceRecord {
  /** simulated time, ns */
  t: number;
  /** pid of the task in whose context the event fired (0: kernel) */
  pid: number;
  name: TraceName;
  args: readonly (number | string)[];
}

const hex = (n: number | string) =>
  n === -1 ? '0xffffffffffffffff' : `0x${Number(n).toString(16)}`;

/** %p of a struct page: a stable vmemmap-style address (64 bytes per page), NULL for none. */
export const pagePtr = (pfn: number): string =>
  pfn < 0 ? '0000000000000000' : (0xfffffc0000000000n + BigInt(pfn) * 64n).toString(16);

type Format = (a: readonly (number | string)[], v: KernelVersion) => string;

const FORMATS: Record<TraceName, Format> = {
  cma_alloc_start: (a, v) =>
    v === '6.4'
      ? `name=${a[0]} count=${a[1]} align=${a[4]}`
      : `name=${a[0]} request_count=${a[1]} available_count=${a[2]} total_count=${a[3]} align=${a[4]}`,
  cma_alloc_busy_retry: (a) =>
    `name=${a[0]} pfn=${hex(a[1]!)} page=${pagePtr(Number(a[1]))} count=${a[2]} align=${a[3]}`,
  cma_alloc_finish: (a) =>
    `name=${a[0]} pfn=${hex(a[1]!)} page=${pagePtr(Number(a[2]))} count=${a[3]} align=${a[4]} errorno=${a[5]}`,
  cma_release: (a) => `name=${a[0]} pfn=${hex(a[1]!)} page=${pagePtr(Number(a[1]))} count=${a[2]}`,
  test_pages_isolated: (a) =>
    `start_pfn=${hex(a[0]!)} end_pfn=${hex(a[1]!)} fin_pfn=${hex(a[2]!)} ret=${Number(a[2]) >= Number(a[1]) ? 'success' : 'fail'}`,
  // nr_split arrived after 6.4 ("mm/migrate: add nr_split to trace_mm_migrate_pages stats", §2.6)
  mm_migrate_pages: (a, v) =>
    `nr_succeeded=${a[0]} nr_failed=${a[1]} nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0${v === '6.4' ? '' : ' nr_split=0'} mode=MIGRATE_SYNC reason=${a[2]}`,
  pr_err: (a) => String(a[0]),
};

const SUBSYSTEM: Record<TraceName, string> = {
  cma_alloc_start: 'cma',
  cma_alloc_busy_retry: 'cma',
  cma_alloc_finish: 'cma',
  cma_release: 'cma',
  test_pages_isolated: 'page_isolation',
  mm_migrate_pages: 'migrate',
  pr_err: 'printk',
};

export class TraceLog {
  /** grows to `capacity`, then wraps at `head` */
  private readonly ring: TraceRecord[] = [];
  private head = 0;
  /** events emitted since boot, per name, including those the ring dropped */
  readonly counts = new Map<TraceName, number>();
  total = 0;

  constructor(
    readonly version: KernelVersion,
    readonly capacity = 65536,
  ) {}

  emit(t: number, pid: number, name: TraceName, args: readonly (number | string)[]): void {
    const r = { t, pid, name, args };
    if (this.ring.length < this.capacity) this.ring.push(r);
    else this.ring[this.head] = r;
    this.head = (this.head + 1) % this.capacity;
    this.total++;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  count(name: TraceName): number {
    return this.counts.get(name) ?? 0;
  }

  /** The newest `n` records (or all kept), oldest first; optionally only those after `sinceTotal`. */
  records(n = this.capacity): TraceRecord[] {
    const kept = Math.min(this.total, this.capacity, n);
    const out: TraceRecord[] = [];
    for (let i = kept; i > 0; i--)
      out.push(this.ring[(this.head - i + this.capacity) % this.capacity]!);
    return out;
  }

  /** The event body as the kernel prints it after "name: ". */
  body(r: TraceRecord): string {
    return FORMATS[r.name](r.args, this.version);
  }

  /** One line as in trace_pipe, e.g. `  1.000100: cma:cma_alloc_finish: name=svp ...`. */
  line(r: TraceRecord): string {
    if (r.name === 'pr_err') return `[${(r.t / 1e9).toFixed(6)}] ${this.body(r)}`;
    return `${(r.t / 1e9).toFixed(6)}: ${SUBSYSTEM[r.name]}:${r.name}: ${this.body(r)}`;
  }
}
