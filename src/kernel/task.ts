// Tasks and the credentials that decide memlock accounting: uid with its shared user_struct,
// CAP_IPC_LOCK, RLIMIT_MEMLOCK (kernel-model.md §4.6).
import { PAGE_SIZE } from '../sim/units.js';
import type { FdTable } from './fs/file.js';
import type { Charge } from './mm/charge.js';
import type { Mm } from './mm/mmap.js';
import type { MemlockBlame } from './observe/blame.js';

/** struct user_struct: per-UID, shared by every process of that user (io_uring, AF_XDP). */
export class UserStruct {
  /** user->locked_vm, pages */
  lockedVm = 0;
  /** the live charges of locked_vm (pin_acct.ts) */
  readonly charges = new Set<Charge>();
  constructor(readonly uid: number) {}
}

export interface Cred {
  uid: number;
  /** CAP_IPC_LOCK */
  capIpcLock: boolean;
  /** RLIMIT_MEMLOCK in bytes; Infinity for unlimited */
  rlimitMemlock: number;
}

export type TaskState = 'running' | 'exited';

export class Task {
  state: TaskState = 'running';
  /** set when killed: kernel paths see fatal_signal_pending() */
  fatalSignal = false;
  /** memlock-style refusals this task received (-ENOMEM/-EPERM from an RLIMIT_MEMLOCK check) */
  memlockDenied = 0;
  /** the last refusal, until the failure it causes is recorded (observe/failures.ts) */
  memlockDenial?: { errno: number; blame: MemlockBlame };
  /** the CPU spawn's `cpu` pinned the task to (fork copies it, as the affinity mask), else pid % cpus */
  cpu: number | undefined = undefined;

  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly cred: Cred,
    readonly user: UserStruct,
    readonly mm: Mm,
    readonly files: FdTable,
  ) {}

  /** rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT */
  get memlockPages(): number {
    return Math.floor(this.cred.rlimitMemlock / PAGE_SIZE);
  }

  /** can_do_mlock(): a non-zero limit or CAP_IPC_LOCK (§4.6). */
  canDoMlock(): boolean {
    return this.cred.rlimitMemlock !== 0 || this.cred.capIpcLock;
  }
}
