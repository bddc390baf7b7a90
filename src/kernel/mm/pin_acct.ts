// RLIMIT_MEMLOCK accounting of pinned pages, in the three styles of spec §4.6 (and the TEE
// policies of §6 item 8, which borrow them). A Charge remembers exactly what it took.
import { ERRNO } from '../config.js';
import type { Task, UserStruct } from '../task.js';
import { deny } from './mlock.js';
import type { Mm } from './mmap.js';

export interface Charge {
  /** user->locked_vm pages (io_uring style, skipped with CAP_IPC_LOCK) */
  user?: UserStruct;
  userPages: number;
  mm: Mm;
  /** mm->pinned_vm pages (io_uring, RDMA) */
  pinnedPages: number;
  /** mm->locked_vm pages (VFIO, shared with mlock) */
  lockedPages: number;
}

/** ctx->user as io_uring_setup() takes it: NULL when the creator has CAP_IPC_LOCK (§4.6). */
export const ringUser = (task: Task): UserStruct | undefined =>
  task.cred.capIpcLock ? undefined : task.user;

/**
 * io_account_mem() (§4.6): `user` (ctx->user: NULL when the ring was created with CAP_IPC_LOCK)
 * has its locked_vm checked against the calling task's RLIMIT_MEMLOCK and charged; `mm`
 * (ctx->mm_account) has pinned_vm charged unchecked. Called after pinning.
 */
export function chargeIoUring(
  task: Task,
  pages: number,
  user: UserStruct | undefined,
  mm: Mm,
): Charge | number {
  const c: Charge = { userPages: 0, mm, pinnedPages: pages, lockedPages: 0 };
  if (user) {
    if (user.lockedVm + pages > task.memlockPages) return deny(task, -ERRNO.ENOMEM);
    user.lockedVm += pages;
    c.user = user;
    c.userPages = pages;
  }
  mm.pinnedVm += pages;
  return c;
}

/**
 * ib_umem_get() (§4.6): -EPERM without can_do_mlock(); mm->pinned_vm charged, then checked, and
 * rolled back over the limit without CAP_IPC_LOCK. Called before pinning.
 */
export function chargeRdma(task: Task, pages: number): Charge | number {
  if (!task.canDoMlock()) return deny(task, -ERRNO.EPERM);
  task.mm.pinnedVm += pages;
  if (task.mm.pinnedVm > task.memlockPages && !task.cred.capIpcLock) {
    task.mm.pinnedVm -= pages;
    return deny(task, -ERRNO.ENOMEM);
  }
  return { userPages: 0, mm: task.mm, pinnedPages: pages, lockedPages: 0 };
}

/** vfio_lock_acct() (§4.6): mm->locked_vm, shared with mlock; CAP_IPC_LOCK bypasses the limit. */
export function chargeVfio(task: Task, pages: number): Charge | number {
  if (task.mm.lockedVm + pages > task.memlockPages && !task.cred.capIpcLock) {
    return deny(task, -ERRNO.ENOMEM);
  }
  task.mm.lockedVm += pages;
  return { userPages: 0, mm: task.mm, pinnedPages: 0, lockedPages: pages };
}

export function uncharge(c: Charge): void {
  if (c.user) c.user.lockedVm -= c.userPages;
  c.mm.pinnedVm -= c.pinnedPages;
  c.mm.lockedVm -= c.lockedPages;
}
