// Pin a user range for a subsystem and register who holds it, for blame (kernel-model.md §4, §6 item 4).
import type { Kernel } from '../kernel.js';
import type { PinHolder, PinVia } from '../observe/blame.js';
import type { Task } from '../task.js';
import { FOLL_LONGTERM, releaseUserPages } from './gup.js';

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
