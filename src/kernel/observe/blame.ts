// Who holds the page that blocked an allocation, and through which path (Android's page_pinner,
// spec §6 item 4; DESIGN.md failures[].blocker).
import type { Kernel } from '../kernel.js';
import { PageKind } from '../mm/page.js';

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

export interface Failure {
  /** simulated time, ns */
  t: number;
  op: string;
  pid?: number;
  area?: string;
  count?: number;
  errno: string;
  /** fin_pfn of the first failed window */
  blocking_pfn?: number;
  /** the distinct fin_pfns of every failed window, in window order */
  blocking_pfns?: number[];
  blocker?: Blocker;
}

export class PinRegistry {
  private readonly holders = new Set<PinHolder>();

  add(h: PinHolder): PinHolder {
    this.holders.add(h);
    return h;
  }

  remove(h: PinHolder): void {
    this.holders.delete(h);
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

/** Name what keeps `pfn` from being migrated or freed. */
export function blame(k: Kernel, pfn: number): Blocker | undefined {
  const h = k.pins.holderOf(pfn);
  if (h)
    return {
      pid: h.pid,
      comm: h.comm,
      via: typeof h.via === 'function' ? h.via() : h.via,
      id: h.id,
    };
  const pages = k.alloc.pages;
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
