// RDMA memory regions (drivers/infiniband/core/umem.c ib_umem_get; kernel-model.md §4.6, C21): charge
// mm->pinned_vm before pinning, then pin long-term in batches, looping over partial counts.
import type { Sleep } from '../../../sim/engine.js';
import { sleep } from '../../../sim/engine.js';
import { pageSpan } from '../../../sim/units.js';
import { ERRNO } from '../../config.js';
import { handleTableOf, openHandleFile } from '../../fs/handles.js';
import type { Kernel } from '../../kernel.js';
import {
  FOLL_LONGTERM,
  FOLL_PIN,
  FOLL_WRITE,
  pinUserPagesFast,
  unpinUserPages,
} from '../../mm/gup.js';
import { chargeRdma, deny, uncharge } from '../../mm/pin_acct.js';
import { hold, type PinnedRegion, releaseRegion } from '../../mm/pin_holder.js';
import type { Task } from '../../task.js';

/** PAGE_SIZE / sizeof(struct page *): pages per pin_user_pages_fast call. */
const UMEM_BATCH = 512;

/** A memory region: its pages pinned, mm->pinned_vm charged. */
type Mr = PinnedRegion;

/** open("/dev/infiniband/uverbs0"): closing it deregisters every MR. */
export function rdmaOpen(k: Kernel, task: Task): number {
  return openHandleFile<Mr>(task, 'rdma', (mr) => releaseRegion(k, mr));
}

/** ibv_reg_mr() → ib_umem_get(): an MR handle, or a negative errno. */
export function* rdmaRegMr(
  k: Kernel,
  task: Task,
  ctxFd: number,
  addr: number,
  len: number,
  writable: boolean,
): Generator<Sleep, number> {
  const mrs = handleTableOf<Mr>(task, ctxFd, 'rdma');
  if (!mrs) return -ERRNO.EBADF;
  const [start, npages] = pageSpan(addr, len);
  if (!task.canDoMlock()) {
    // ib_umem_get: before the length check (§4.6)
    return deny(task, -ERRNO.EPERM, 'rdma', 'mm.pinned_vm', task.mm.pinnedVm, npages, task.mm);
  }
  if (npages === 0) return -ERRNO.EINVAL;
  const r = chargeRdma(task, npages); // before any pin (§4.6)
  if (!r.ok) return r.errno;
  const charge = r.charge;
  const flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
  const pfns: number[] = [];
  for (let done = 0; done < npages; ) {
    const ret = pinUserPagesFast(
      k,
      task.mm,
      start + done,
      Math.min(npages - done, UMEM_BATCH),
      flags,
      pfns,
    );
    if (ret < 0) {
      yield sleep(k.takeCharge());
      unpinUserPages(k, pfns);
      uncharge(charge);
      return ret;
    }
    done += ret;
  }
  yield sleep(k.takeCharge());
  return mrs.add((handle) => ({
    held: hold(k, task, 'rdma', handle, pfns, flags | FOLL_PIN),
    charge,
  }));
}

/** ibv_dereg_mr(). */
export function rdmaDeregMr(_k: Kernel, task: Task, ctxFd: number, handle: number): number {
  const mrs = handleTableOf<Mr>(task, ctxFd, 'rdma');
  if (!mrs) return -ERRNO.EBADF;
  return mrs.remove(handle) ? 0 : -ERRNO.EINVAL;
}
