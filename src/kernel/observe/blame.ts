// Who holds the page that blocked an allocation, and through which path (Android's page_pinner,
// kernel-model.md §6 item 4; docs/snapshot.md failures[].blocker).
import { type PageArrays, PageKind } from '../mm/page.js';

export type PinVia =
  | 'tee_shm'
  | 'tee_invoke'
  | 'io_uring'
  | 'rdma'
  | 'vfio'
  | 'o_direct'
  | 'gup_test';

/** A holder of page references: a TEE shm, an io_uring buffer, an O_DIRECT request, ... */
export interface PinHolder {
  pid: number;
  comm: string;
  /** the path holding the reference; a function when it changes over the holder's life */
  via: PinVia | (() => PinVia);
  /** the subsystem's own id for it: shm id, buffer index, MR handle, ... */
  id: number;
  pfns: readonly number[];
  longterm: boolean;
}

export interface Blocker {
  pid: number;
  comm: string;
  via: string;
  id?: number;
}

/** One window of cma_alloc: [start, end) and the fin_pfn test_pages_isolated stopped at (§2.4). */
export interface CmaWindow {
  start: number;
  end: number;
  /** null: the window failed before test_pages_isolated ran (a pageblock already isolated) */
  fin_pfn: number | null;
}

/** The windows a failed cma_alloc tried (§2.3): every one of them failed. */
export interface CmaWindows {
  tried: number;
  /** absent when none was tried */
  first?: CmaWindow;
  last?: CmaWindow;
}

/** The counters RLIMIT_MEMLOCK is checked against (§4.6). */
export type MemlockCounter = 'user.locked_vm' | 'mm.pinned_vm' | 'mm.locked_vm';

/** Who charges them: mlock(2) and friends, and the long-term pinning subsystems (§4.6, §6 item 8). */
export type MemlockSubsystem = 'mlock' | 'io_uring' | 'rdma' | 'vfio' | 'tee_shm';

/** Pages one subsystem of one process holds charged to the counter. */
export interface MemlockCharger {
  subsystem: MemlockSubsystem;
  pid: number;
  /** the subsystem's own id: the TEE shm id */
  id?: number;
  pages: number;
}

/** Why an accounting limit refused a request: `held + requested > limit`, in pages. */
export interface MemlockBlame {
  counter: MemlockCounter;
  /** the uid of the task that asked */
  uid: number;
  held: number;
  requested: number;
  limit: number;
  /** whether the task that asked had CAP_IPC_LOCK (io_uring looks at the ring's creator) */
  capIpcLock: boolean;
  /** the subsystem that asked */
  subsystem: MemlockSubsystem;
  /** what makes up `held`, in the order it was charged */
  chargedBy: MemlockCharger[];
}

export interface Failure {
  /** simulated time, ns */
  t: number;
  op: string;
  pid?: number;
  area?: string;
  count?: number;
  errno: string;
  /** cma_alloc: the windows it tried */
  windows?: CmaWindows;
  /** fin_pfn of the first failed window */
  blocking_pfn?: number;
  /** the distinct fin_pfns of every failed window, in window order */
  blocking_pfns?: number[];
  blocker?: Blocker;
  /** a refusal by an accounting limit: which counter, and who charged it */
  memlock?: MemlockBlame;
}

/**
 * The live pin holders. A long-term holder's pages carry the model's long-term label
 * (PG_PIN_LONGTERM, via PageArrays.addLongtermHolds) exactly while it is registered: the label
 * is derived from who pins the page, so a FOLL_LONGTERM pin that failed and was rolled back, or
 * one that was dropped while other pins remain, leaves none behind.
 */
export class PinRegistry {
  private readonly holders = new Set<PinHolder>();

  constructor(private readonly pages: PageArrays) {}

  add(h: PinHolder): PinHolder {
    if (this.holders.has(h)) throw new Error(`pin holder ${h.comm}/${h.id} registered twice`);
    this.holders.add(h);
    if (h.longterm) this.label(h, 1);
    return h;
  }

  remove(h: PinHolder): void {
    if (!this.holders.delete(h)) return;
    if (h.longterm) this.label(h, -1);
  }

  private label(h: PinHolder, n: number): void {
    for (const pfn of h.pfns) if (pfn >= 0) this.pages.addLongtermHolds(pfn, n); // not the zero page
  }

  *all(): IterableIterator<PinHolder> {
    yield* this.holders;
  }

  /** The first holder of `pfn`, oldest first. */
  holderOf(pfn: number): PinHolder | undefined {
    for (const h of this.holders) if (h.pfns.includes(pfn)) return h;
    return undefined;
  }
}

/** Name what keeps `pfn` from being migrated or freed: its pin holder, else its page's kind. */
export function blame(pins: PinRegistry, pages: PageArrays, pfn: number): Blocker | undefined {
  const h = pins.holderOf(pfn);
  if (h)
    return {
      pid: h.pid,
      comm: h.comm,
      via: typeof h.via === 'function' ? h.via() : h.via,
      id: h.id,
    };
  switch (pages.kind[pfn]) {
    case PageKind.CMA:
      return { pid: 0, comm: 'kernel', via: 'cma_alloc' };
    case PageKind.KERNEL:
      return { pid: 0, comm: 'kernel', via: 'unmovable' };
    case PageKind.FILE:
      return { pid: 0, comm: 'kernel', via: 'page_cache_ref' };
    default:
      return undefined;
  }
}
