// A memlock charge (kernel-model.md §4.6): the pages one pinning subsystem added to
// user->locked_vm, mm->pinned_vm and mm->locked_vm, and who added them. pin_acct.ts takes and drops
// charges; each counter keeps its live charges, so a refusal names what fills it.
import type { MemlockSubsystem } from '../observe/blame.js';

/** A counter charges raise, with its live charges: user->locked_vm of a UserStruct. */
export interface LockedVm {
  lockedVm: number;
  readonly charges: Set<Charge>;
}

/** An Mm's counters: mm->locked_vm (shared with mlock) and mm->pinned_vm. */
export interface MmVm extends LockedVm {
  pinnedVm: number;
}

export interface Charge {
  /** who charged it; `id` is set once the subsystem has one (a TEE shm id) */
  by: { subsystem: MemlockSubsystem; pid: number; id?: number };
  /** user->locked_vm pages (io_uring style, skipped with CAP_IPC_LOCK) */
  user?: LockedVm;
  userPages: number;
  mm: MmVm;
  /** mm->pinned_vm pages (io_uring, RDMA) */
  pinnedPages: number;
  /** mm->locked_vm pages (VFIO, shared with mlock) */
  lockedPages: number;
}
