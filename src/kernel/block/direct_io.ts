// O_DIRECT I/O: the user pages are referenced for the duration of the I/O and released at bio
// completion — FOLL_GET in 6.4 (iov_iter_get_pages), FOLL_PIN in 6.18 (iov_iter_extract_pages);
// short-term either way (kernel-model.md §4.7, §3.4).
import type { Sleep } from '../../sim/engine.js';
import { sleep } from '../../sim/engine.js';
import { pageSpan } from '../../sim/units.js';
import { ERRNO } from '../config.js';
import { features } from '../features.js';
import type { Kernel } from '../kernel.js';
import {
  FOLL_GET,
  FOLL_PIN,
  FOLL_WRITE,
  getUserPagesFast,
  pinUserPagesFast,
  releaseUserPages,
} from '../mm/gup.js';
import { hold, release } from '../mm/pin_holder.js';
import type { Task } from '../task.js';

/**
 * A read (into memory: FOLL_WRITE) or write of `len` bytes at `addr` that takes `durationNs`.
 * Returns the bytes transferred or a negative errno.
 */
export function* directIo(
  k: Kernel,
  task: Task,
  addr: number,
  len: number,
  durationNs: number,
  intoMemory: boolean,
): Generator<Sleep, number> {
  const [start, n] = pageSpan(addr, len);
  const gupFlags = intoMemory ? FOLL_WRITE : 0;
  const pfns: number[] = [];
  const pin = features(k.version).dioFollPin;
  const rc = (pin ? pinUserPagesFast : getUserPagesFast)(k, task.mm, start, n, gupFlags, pfns);
  const flags = gupFlags | (pin ? FOLL_PIN : FOLL_GET);
  if (rc !== n) {
    releaseUserPages(k, pfns, flags);
    return rc < 0 ? rc : -ERRNO.EFAULT;
  }
  const held = hold(k, task, 'o_direct', k.nextIoRequest++, pfns, flags);
  try {
    yield sleep(k.takeCharge() + durationNs);
  } finally {
    release(k, held); // bio_release_pages at completion
  }
  return len;
}
