// Pin a user range for a subsystem and register who holds it, for blame (kernel-model.md §4, §6 item 4).
import type { Kernel } from '../kernel.js';
import type { PinHolder, PinVia } from '../observe/blame.js';
import type { Task } from '../task.js';
import type { Charge } from './charge.js';
import { FOLL_LONGTERM, releaseUserPages } from './gup.js';
import { uncharge } from './pin_acct.js';

export interface HeldPages {
  pfns: number[];
  flags: number;
  holder: PinHolder;
}

/** Register `pfns`, taken with `flags` (FOLL_PIN or FOLL_GET included), as held by `task` via `via`. */
export function hold(
  k: Kernel,
  task: Task,
  via: PinVia,
  id: number,
  pfns: number[],
  flags: number,
): HeldPages {
  const holder = k.pins.add({
    pid: task.pid,
    comm: task.comm,
    via,
    id,
    pfns,
    longterm: (flags & FOLL_LONGTERM) !== 0,
  });
  return { pfns, flags, holder };
}

/**
 * Drop the blame record (and with it the long-term label), then the references: the last one
 * may free the page.
 */
export function release(k: Kernel, held: HeldPages): void {
  k.pins.remove(held.holder);
  releaseUserPages(k, held.pfns, held.flags);
}

/** Pages a subsystem holds pinned, with the charge they were accounted under (an RDMA MR, a VFIO
 * DMA mapping, an io_uring fixed buffer). */
export interface PinnedRegion {
  held: HeldPages;
  charge: Charge;
}

/** Unpin a region and give back its charge (ib_umem_release, vfio_remove_dma, io_buffer_unmap). */
export function releaseRegion(k: Kernel, r: PinnedRegion): void {
  release(k, r.held);
  uncharge(r.charge);
}
