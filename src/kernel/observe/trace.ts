// Trace events (kernel-model.md §2.6), kept in a ring buffer like the ftrace buffer: each record holds its
// event's fields by name, as the kernel's TP_STRUCT__entry does, and is formatted on read with
// the event's TP_printk of the simulated version. A sink, when set, sees every record as it is
// emitted (`run --trace`: the whole trace, whatever the ring kept).
import type { KernelVersion } from '../config.js';
import { type Features, features } from '../features.js';
import { Ring } from './ring.js';
import { type Sink, sprint } from './sink.js';

/** The fields of each event (TP_STRUCT__entry); pfns are numbers, `page` is the page's pfn. */
export interface TraceFields {
  /** 6.4 has name, count (= request_count) and align only */
  cma_alloc_start: {
    name: string;
    request_count: number;
    available_count: number;
    total_count: number;
    align: number;
  };
  cma_alloc_busy_retry: { name: string; pfn: number; page: number; count: number; align: number };
  cma_alloc_finish: {
    name: string;
    pfn: number;
    page: number;
    count: number;
    align: number;
    errorno: number;
  };
  cma_release: { name: string; pfn: number; page: number; count: number };
  test_pages_isolated: { start_pfn: number; end_pfn: number; fin_pfn: number };
  /** nr_thp_* and nr_split are always 0 in the model (no THP) */
  mm_migrate_pages: {
    nr_succeeded: number;
    nr_failed: number;
    reason: 'contig_range' | 'longterm_pin';
  };
}

export type TraceName = keyof TraceFields;

export type TraceRecord = {
  [N in TraceName]: {
    /** simulated time, ns */
    t: number;
    /** pid and comm of the task in whose context the event fired (0, '<idle>': none) */
    pid: number;
    comm: string;
    name: N;
    fields: TraceFields[N];
  };
}[TraceName];

/**
 * %p of a struct page: a stable vmemmap-style address, 0xfffffc0000000000 + 64 bytes per page
 * (pfns below 2^34, as 40 bits), NULL for none.
 */
const pagePtr = (o: Sink, pfn: number): Sink =>
  pfn < 0 ? o.str('0000000000000000') : o.str('fffffc').hex(pfn * 64, 10);

/** `name=%s pfn=0x%lx page=%p count=%lu`, which cma_release and cma_alloc_class print first. */
const cmaRange = (o: Sink, f: TraceFields['cma_release']): Sink =>
  pagePtr(o.str('name=').str(f.name).str(' pfn=0x').lx(f.pfn).str(' page='), f.page)
    .str(' count=')
    .dec(f.count);

interface EventDef<N extends TraceName> {
  /** TRACE_SYSTEM */
  system: string;
  /** TP_printk of the version whose features are `v` */
  printk(o: Sink, f: TraceFields[N], v: Features): void;
}

/** Every event the model emits, as include/trace/events/{cma,migrate,page_isolation}.h declare it. */
export const EVENTS: { [N in TraceName]: EventDef<N> } = {
  cma_alloc_start: {
    system: 'cma',
    // 6.18 added available_count and total_count and renamed count to request_count (§2.6)
    printk: (o, f, v) => {
      o.str('name=').str(f.name);
      if (!v.cmaAllocStartCounts) o.str(' count=').dec(f.request_count);
      else
        o.str(' request_count=')
          .dec(f.request_count)
          .str(' available_count=')
          .dec(f.available_count)
          .str(' total_count=')
          .dec(f.total_count);
      o.str(' align=').dec(f.align);
    },
  },
  cma_alloc_busy_retry: {
    system: 'cma',
    printk: (o, f) => cmaRange(o, f).str(' align=').dec(f.align),
  },
  cma_alloc_finish: {
    system: 'cma',
    printk: (o, f) => cmaRange(o, f).str(' align=').dec(f.align).str(' errorno=').dec(f.errorno),
  },
  cma_release: { system: 'cma', printk: cmaRange },
  test_pages_isolated: {
    system: 'page_isolation',
    printk: (o, f) =>
      o
        .str('start_pfn=0x')
        .lx(f.start_pfn)
        .str(' end_pfn=0x')
        .lx(f.end_pfn)
        .str(' fin_pfn=0x')
        .lx(f.fin_pfn)
        .str(f.fin_pfn >= f.end_pfn ? ' ret=success' : ' ret=fail'),
  },
  mm_migrate_pages: {
    system: 'migrate',
    // nr_split arrived after 6.4 ("mm/migrate: add nr_split to trace_mm_migrate_pages stats", §2.6)
    printk: (o, f, v) =>
      o
        .str('nr_succeeded=')
        .dec(f.nr_succeeded)
        .str(' nr_failed=')
        .dec(f.nr_failed)
        .str(' nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0')
        .str(v.migrateNrSplit ? ' nr_split=0' : '')
        .str(' mode=MIGRATE_SYNC reason=')
        .str(f.reason),
  },
};

export const TRACE_NAMES = Object.keys(EVENTS) as TraceName[];

export class TraceLog {
  private readonly ring: Ring<TraceRecord>;
  /** events emitted since boot, per name, including those the ring dropped */
  readonly counts = new Map<TraceName, number>();
  /** sees every record as it is emitted */
  sink: ((r: TraceRecord) => void) | undefined;
  /** the version's features, which the TP_printk formats depend on */
  private readonly features: Features;

  constructor(
    readonly version: KernelVersion,
    capacity = 65536,
  ) {
    this.ring = new Ring(capacity);
    this.features = features(version);
  }

  get total(): number {
    return this.ring.total;
  }

  emit(r: TraceRecord): void {
    this.ring.push(r);
    this.counts.set(r.name, (this.counts.get(r.name) ?? 0) + 1);
    this.sink?.(r);
  }

  count(name: TraceName): number {
    return this.counts.get(name) ?? 0;
  }

  /** The newest `n` records (or all kept), oldest first. */
  records(n?: number): TraceRecord[] {
    return this.ring.records(n);
  }

  /** The newest records of one event, oldest first, typed by it. */
  named<N extends TraceName>(name: N): Extract<TraceRecord, { name: N }>[] {
    return this.records().filter((r): r is Extract<TraceRecord, { name: N }> => r.name === name);
  }

  /** The event body as the kernel prints it after "name: " (TP_printk). */
  body(r: TraceRecord): string {
    return sprint((o) => this.print(o, r));
  }

  /** Writes the event body to `o`. */
  print(o: Sink, r: TraceRecord): void {
    (EVENTS[r.name].printk as EventDef<TraceName>['printk'])(o, r.fields, this.features);
  }
}
