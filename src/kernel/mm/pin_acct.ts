// RLIMIT_MEMLOCK accounting of pinned pages, in the three styles of kernel-model.md §4.6 (and the
// TEE policies of §6 item 8, which borrow them): taking and dropping charges (charge.ts), and the
// refusal that names what fills a counter.
import { ERRNO } from '../config.js';
import type {
  MemlockBlame,
  MemlockCharger,
  MemlockCounter,
  MemlockSubsystem,
} from '../observe/blame.js';
import type { Task, UserStruct } from '../task.js';
import type { Charge } from './charge.js';
import type { Mm } from './mmap.js';

/** A charge attempt: the charge taken, or the errno of its refusal (deny()). */
export type ChargeResult = { ok: true; charge: Charge } | { ok: false; errno: number };

const charged = (charge: Charge): ChargeResult => ({ ok: true, charge });
const refused = (errno: number): ChargeResult => ({ ok: false, errno });

/** ctx->user as io_uring_setup() takes it: NULL when the creator has CAP_IPC_LOCK (§4.6). */
export const ringUser = (task: Task): UserStruct | undefined =>
  task.cred.capIpcLock ? undefined : task.user;

function charge(
  task: Task,
  subsystem: MemlockSubsystem,
  mm: Mm,
  pages: { user?: UserStruct; userPages?: number; pinned?: number; locked?: number },
): Charge {
  const c: Charge = {
    by: { subsystem, pid: task.pid },
    userPages: pages.userPages ?? 0,
    mm,
    pinnedPages: pages.pinned ?? 0,
    lockedPages: pages.locked ?? 0,
  };
  if (pages.user) {
    c.user = pages.user;
    pages.user.lockedVm += c.userPages;
    pages.user.charges.add(c);
  }
  mm.pinnedVm += c.pinnedPages;
  mm.lockedVm += c.lockedPages;
  mm.charges.add(c);
  return c;
}

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
  subsystem: MemlockSubsystem = 'io_uring',
): ChargeResult {
  if (user && user.lockedVm + pages > task.memlockPages) {
    return refused(
      deny(task, -ERRNO.ENOMEM, subsystem, 'user.locked_vm', user.lockedVm, pages, user),
    );
  }
  return charged(charge(task, subsystem, mm, { user, userPages: user ? pages : 0, pinned: pages }));
}

/**
 * ib_umem_get() (§4.6): -EPERM without can_do_mlock(); mm->pinned_vm charged, then checked, and
 * rolled back over the limit without CAP_IPC_LOCK. Called before pinning.
 */
export function chargeRdma(
  task: Task,
  pages: number,
  subsystem: MemlockSubsystem = 'rdma',
): ChargeResult {
  const mm = task.mm;
  const refuse = (errno: number) =>
    refused(deny(task, errno, subsystem, 'mm.pinned_vm', mm.pinnedVm, pages, mm));
  if (!task.canDoMlock()) return refuse(-ERRNO.EPERM);
  if (mm.pinnedVm + pages > task.memlockPages && !task.cred.capIpcLock) {
    return refuse(-ERRNO.ENOMEM);
  }
  return charged(charge(task, subsystem, mm, { pinned: pages }));
}

/** vfio_lock_acct() (§4.6): mm->locked_vm, shared with mlock; CAP_IPC_LOCK bypasses the limit. */
export function chargeVfio(task: Task, pages: number, subsystem: MemlockSubsystem): ChargeResult {
  const mm = task.mm;
  if (mm.lockedVm + pages > task.memlockPages && !task.cred.capIpcLock) {
    return refused(deny(task, -ERRNO.ENOMEM, subsystem, 'mm.locked_vm', mm.lockedVm, pages, mm));
  }
  return charged(chargeLocked(task, pages, subsystem));
}

/** __account_locked_vm(..., bypass_rlim): charge mm->locked_vm, the limit already checked. */
export const chargeLocked = (task: Task, pages: number, subsystem: MemlockSubsystem): Charge =>
  charge(task, subsystem, task.mm, { locked: pages });

export function uncharge(c: Charge): void {
  if (c.user) {
    c.user.lockedVm -= c.userPages;
    c.user.charges.delete(c);
  }
  c.mm.pinnedVm -= c.pinnedPages;
  c.mm.lockedVm -= c.lockedPages;
  c.mm.charges.delete(c);
}

/** The pages of `c` on `counter`. */
function pagesOn(c: Charge, counter: MemlockCounter): number {
  if (counter === 'user.locked_vm') return c.userPages;
  return counter === 'mm.pinned_vm' ? c.pinnedPages : c.lockedPages;
}

/**
 * What makes up `counter` of `on`, by subsystem, process and id in the order charged; on an mm's
 * locked_vm what no pinning subsystem charged is the task's own mlock (VM_LOCKED mappings).
 */
function chargedBy(task: Task, counter: MemlockCounter, on: UserStruct | Mm): MemlockCharger[] {
  const out = new Map<string, MemlockCharger>();
  let charged = 0;
  for (const c of on.charges) {
    const pages = pagesOn(c, counter);
    if (pages === 0) continue;
    charged += pages;
    const key = `${c.by.subsystem}/${c.by.pid}/${c.by.id ?? ''}`;
    const entry = out.get(key) ?? { ...c.by, pages: 0 };
    entry.pages += pages;
    out.set(key, entry);
  }
  const list = [...out.values()];
  if (counter === 'mm.locked_vm' && task.mm.lockedVm > charged) {
    list.unshift({ subsystem: 'mlock', pid: task.pid, pages: task.mm.lockedVm - charged });
  }
  return list;
}

/**
 * Refuse a request over RLIMIT_MEMLOCK (or with no limit at all: -EPERM): count it against the
 * task, keep the blame for the failure record (observe/failures.ts), and return the errno. `held` is what
 * the check compared with `requested` pages on `counter` of `on`.
 */
export function deny(
  task: Task,
  errno: number,
  subsystem: MemlockSubsystem,
  counter: MemlockCounter,
  held: number,
  requested: number,
  on: UserStruct | Mm,
): number {
  task.memlockDenied++;
  const blame: MemlockBlame = {
    counter,
    uid: task.cred.uid,
    held,
    requested,
    limit: task.memlockPages,
    capIpcLock: task.cred.capIpcLock,
    subsystem,
    chargedBy: held > 0 ? chargedBy(task, counter, on) : [],
  };
  task.memlockDenial = { errno, blame };
  return errno;
}
