// mlock(2), munlock(2), mlockall(2) and munlockall(2) (kernel-model.md §3.5, §4.6, C23). mlock takes no
// page reference: mlocked pages stay movable by CMA.
import { ERRNO } from '../config.js';
import type { Kernel } from '../kernel.js';
import type { Task } from '../task.js';
import { VM_IO, VM_LOCKED, VM_PFNMAP, type Vma } from './mmap.js';
import { PG_MLOCKED } from './page.js';
import { deny } from './pin_acct.js';

export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;

/** VM_SPECIAL mappings (VM_IO, VM_PFNMAP) are never locked nor counted (mlock_fixup). */
const VM_SPECIAL = VM_IO | VM_PFNMAP;

/**
 * apply_vma_lock_flags(): set or clear VM_LOCKED on the VMAs of [start, end) in address order,
 * charging locked_vm and (un)marking their present pages (mlock_fixup). A gap is -ENOMEM; the
 * VMAs before it keep their new flags. Returns the VMAs walked with 0 or the errno.
 */
function applyVmaLockFlags(
  k: Kernel,
  task: Task,
  start: number,
  end: number,
  lock: boolean,
): { vmas: readonly Vma[]; rc: number } {
  if (end === start) return { vmas: [], rc: 0 };
  const mm = task.mm;
  const { vmas, whole } = mm.range(start, end);
  for (const v of vmas) {
    if (((v.flags & VM_LOCKED) !== 0) === lock || v.flags & VM_SPECIAL) continue;
    v.flags ^= VM_LOCKED;
    mm.lockedVm += lock ? v.pages : -v.pages;
    for (let va = v.start; va < v.end; va++) {
      const pfn = v.pageAt(va);
      if (pfn < 0) continue;
      if (lock) k.alloc.pages.flags[pfn]! |= PG_MLOCKED;
      else k.alloc.pages.flags[pfn]! &= ~PG_MLOCKED;
    }
  }
  return { vmas, rc: whole ? 0 : -ERRNO.ENOMEM };
}

/** Lock [start, end), then __mm_populate() it unless a gap failed the lock (do_mlock, mlockall). */
function lockRange(k: Kernel, task: Task, start: number, end: number): number {
  const { vmas, rc } = applyVmaLockFlags(k, task, start, end, true);
  if (rc) return rc;
  for (const v of vmas) {
    if (!(v.flags & VM_LOCKED)) continue; // VM_SPECIAL
    for (let va = v.start; va < v.end; va++) task.mm.fault(v, va, false); // marks it PG_mlocked
  }
  return 0;
}

/** Pages of [start, end) already locked (count_mm_mlocked_page_nr). */
function countMlockedPages(task: Task, start: number, end: number): number {
  let n = 0;
  for (const v of task.mm.vmas) {
    if (!(v.flags & VM_LOCKED)) continue;
    n += Math.max(0, Math.min(end, v.end) - Math.max(start, v.start));
  }
  return n;
}

/** do_mlock(): -EPERM without a limit or the cap, -ENOMEM over the limit or over a hole. */
export function mlock(k: Kernel, task: Task, start: number, pages: number): number {
  const mm = task.mm;
  const refuse = (errno: number, requested: number) =>
    deny(task, errno, 'mlock', 'mm.locked_vm', mm.lockedVm, requested, mm);
  if (!task.canDoMlock()) return refuse(-ERRNO.EPERM, pages);
  let locked = pages + mm.lockedVm;
  const limit = task.memlockPages;
  if (locked > limit && !task.cred.capIpcLock)
    locked -= countMlockedPages(task, start, start + pages);
  if (locked > limit && !task.cred.capIpcLock) return refuse(-ERRNO.ENOMEM, locked - mm.lockedVm);
  return lockRange(k, task, start, start + pages);
}

export function munlock(k: Kernel, task: Task, start: number, pages: number): number {
  return applyVmaLockFlags(k, task, start, start + pages, false).rc;
}

/** mlockall(): MCL_CURRENT compares total_vm, not the resident size, with the limit (C23 d). */
export function mlockall(k: Kernel, task: Task, flags: number): number {
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE)) return -ERRNO.EINVAL;
  const mm = task.mm;
  // the check compares total_vm alone with the limit: nothing held, total_vm requested
  const refuse = (errno: number) => deny(task, errno, 'mlock', 'mm.locked_vm', 0, mm.totalVm, mm);
  if (!task.canDoMlock()) return refuse(-ERRNO.EPERM);
  if (flags & MCL_CURRENT && mm.totalVm > task.memlockPages && !task.cred.capIpcLock) {
    return refuse(-ERRNO.ENOMEM);
  }
  mm.defFlags = flags & MCL_FUTURE ? VM_LOCKED : 0;
  if (flags & MCL_CURRENT) {
    for (const v of [...mm.vmas]) lockRange(k, task, v.start, v.end);
  }
  return 0;
}

export function munlockall(k: Kernel, task: Task): number {
  task.mm.defFlags = 0;
  for (const v of [...task.mm.vmas]) applyVmaLockFlags(k, task, v.start, v.end, false);
  return 0;
}

/**
 * mlock_future_ok(): a mapping created VM_LOCKED (MAP_LOCKED, or mlockall(MCL_FUTURE)'s
 * def_flags) must fit under RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK; do_mmap() turns a
 * refusal into -EAGAIN.
 */
export function mlockFutureOk(task: Task, vmFlags: number, pages: number): boolean {
  if (!(vmFlags & VM_LOCKED) || task.cred.capIpcLock) return true;
  return task.mm.lockedVm + pages <= task.memlockPages;
}
