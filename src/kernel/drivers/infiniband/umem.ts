// RDMA memory regions (drivers/infiniband/core/umem.c ib_umem_get; spec §4.6, C21): charge
// mm->pinned_vm before pinning, then pin long-term in batches, looping over partial counts.
import type { Sleep } from '../../../sim/engine.js';
import { sleep } from '../../../sim/engine.js';
import { PAGE_SIZE } from '../../../sim/units.js';
import { ERRNO } from '../../config.js';
import { File } from '../../fs/file.js';
import type { Kernel } from '../../kernel.js';
import {
  FOLL_LONGTERM,
  FOLL_PIN,
  FOLL_WRITE,
  pinUserPagesFast,
  unpinUserPages,
} from '../../mm/gup.js';
import { type Charge, chargeRdma, uncharge } from '../../mm/pin_acct.js';
import { type HeldPages, hold, release } from '../../mm/pin_holder.js';
import type { Task } from '../../task.js';

/** PAGE_SIZE / sizeof(struct page *): pages per pin_user_pages_fast call. */
const UMEM_BATCH = 512;

interface Mr {
  held: HeldPages;
  charge: Charge;
}

class UverbsContext {
  readonly mrs = new Map<number, Mr>();
  nextHandle = 1;
}

const contexts = new WeakMap<File, UverbsContext>();

/** open("/dev/infiniband/uverbs0"): closing it deregisters every MR. */
export function rdmaOpen(k: Kernel, task: Task): number {
  const ctx = new UverbsContext();
  const file = new File('rdma', () => {
    for (const handle of [...ctx.mrs.keys()]) deregMr(k, ctx, handle);
  });
  contexts.set(file, ctx);
  return task.files.install(file);
}

function deregMr(k: Kernel, ctx: UverbsContext, handle: number): void {
  const mr = ctx.mrs.get(handle)!;
  ctx.mrs.delete(handle);
  release(k, mr.held); // ib_umem_release
  uncharge(mr.charge);
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
  const ctx = contexts.get(task.files.get(ctxFd)!);
  if (!ctx) return -ERRNO.EBADF;
  const start = Math.floor(addr / PAGE_SIZE);
  const npages = Math.ceil((addr + len) / PAGE_SIZE) - start;
  if (npages === 0) return -ERRNO.EINVAL;
  const charge = chargeRdma(task, npages); // before any pin (§4.6)
  if (typeof charge === 'number') return charge;
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
  const handle = ctx.nextHandle++;
  ctx.mrs.set(handle, { held: hold(k, task, 'rdma', handle, pfns, flags | FOLL_PIN), charge });
  return handle;
}

/** ibv_dereg_mr(). */
export function rdmaDeregMr(k: Kernel, task: Task, ctxFd: number, handle: number): number {
  const ctx = contexts.get(task.files.get(ctxFd)!);
  if (!ctx) return -ERRNO.EBADF;
  if (!ctx.mrs.has(handle)) return -ERRNO.EINVAL;
  deregMr(k, ctx, handle);
  return 0;
}
