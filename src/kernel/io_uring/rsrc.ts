// io_uring fixed buffers (io_uring/rsrc.c, memmap.c; kernel-model.md §4.5, §4.6): pin long-term, then charge
// user->locked_vm (unless the ring was created with CAP_IPC_LOCK) and mm->pinned_vm.
import type { Sleep } from '../../sim/engine.js';
import { sleep } from '../../sim/engine.js';
import { pageSpan } from '../../sim/units.js';
import { ERRNO } from '../config.js';
import { features } from '../features.js';
import { File } from '../fs/file.js';
import type { Kernel } from '../kernel.js';
import {
  FOLL_LONGTERM,
  FOLL_PIN,
  FOLL_WRITE,
  pinUserPages,
  pinUserPagesFast,
  unpinUserPages,
} from '../mm/gup.js';
import type { Mm } from '../mm/mmap.js';
import { chargeIoUring, ringUser } from '../mm/pin_acct.js';
import { hold, type PinnedRegion, releaseRegion } from '../mm/pin_holder.js';
import type { Task, UserStruct } from '../task.js';

const SZ_1G = 1 << 30;

/** A registered buffer: its pages pinned, charged to ctx->user and ctx->mm_account. */
type IoBuf = PinnedRegion;

/** IORING_MAX_REG_BUFFERS: io_sqe_buffers_register() refuses more, or none (§4.6) */
const IORING_MAX_REG_BUFFERS = 1 << 14;

class IoRing {
  buffers: IoBuf[] | undefined;
  constructor(
    /** ctx->user: the creator's user_struct, undefined when it had CAP_IPC_LOCK */
    readonly user: UserStruct | undefined,
    /** ctx->mm_account: the creator's mm, charged whichever task registers */
    readonly mmAccount: Mm,
  ) {}
}

const rings = new WeakMap<File, IoRing>();

/** io_uring_setup(): a ring fd; teardown unregisters its buffers. */
export function ioUringSetup(k: Kernel, task: Task): number {
  const ring = new IoRing(ringUser(task), task.mm);
  const file = new File('io_uring', () => unregisterAll(k, ring));
  rings.set(file, ring);
  return task.files.install(file);
}

function unregisterAll(k: Kernel, ring: IoRing): void {
  for (const b of ring.buffers ?? []) releaseRegion(k, b);
  ring.buffers = undefined;
}

/**
 * io_pin_pages() of one iovec: 6.18 pins with the fast path and leaves file mappings to GUP; 6.4
 * pins slowly and refuses files itself.
 */
function pinBuffer(k: Kernel, task: Task, start: number, n: number, pfns: number[]): number {
  const { ioUringPinFast, ioUringGupFileCheck } = features(k.version);
  const pin = ioUringPinFast ? pinUserPagesFast : pinUserPages;
  const rc = pin(k, task.mm, start, n, FOLL_WRITE | FOLL_LONGTERM, pfns);
  if (rc !== n) return rc < 0 ? rc : -ERRNO.EFAULT; // a partial pin is -EFAULT
  if (ioUringGupFileCheck) return 0;
  // 6.4: "don't support file backed memory" unless shmem or hugetlbfs (§4.5)
  for (let va = start; va < start + n; va++) {
    const inode = task.mm.findVma(va)!.inode;
    if (inode && inode.fs !== 'tmpfs' && inode.fs !== 'memfd') return -ERRNO.EOPNOTSUPP;
  }
  return 0;
}

/** IORING_REGISTER_BUFFERS: every buffer or none. */
export function* ioUringRegisterBuffers(
  k: Kernel,
  task: Task,
  ringFd: number,
  iovecs: readonly { addr: number; len: number }[],
): Generator<Sleep, number> {
  const ring = rings.get(task.files.get(ringFd)!);
  if (!ring) return -ERRNO.EBADF;
  if (ring.buffers) return -ERRNO.EBUSY;
  if (iovecs.length === 0 || iovecs.length > IORING_MAX_REG_BUFFERS) return -ERRNO.EINVAL;
  const bufs: IoBuf[] = [];
  ring.buffers = bufs;
  for (const [i, iov] of iovecs.entries()) {
    // io_buffer_validate(): a NULL, zero-length iovec is an empty slot (§4.6)
    if (iov.addr === 0 && iov.len === 0) continue;
    if (iov.len > SZ_1G || iov.len === 0) return failRegister(k, ring, -ERRNO.EFAULT);
    const [start, n] = pageSpan(iov.addr, iov.len);
    const pfns: number[] = [];
    const rc = pinBuffer(k, task, start, n, pfns);
    yield sleep(k.takeCharge());
    if (rc < 0) {
      unpinUserPages(k, pfns);
      return failRegister(k, ring, rc);
    }
    // io_buffer_account_pin(): after the pin, which has already moved the pages out of CMA (C18)
    const r = chargeIoUring(task, n, ring.user, ring.mmAccount);
    if (!r.ok) {
      unpinUserPages(k, pfns);
      return failRegister(k, ring, r.errno);
    }
    const charge = r.charge;
    bufs.push({
      held: hold(k, task, 'io_uring', i, pfns, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM),
      charge,
    });
  }
  return 0;
}

function failRegister(k: Kernel, ring: IoRing, errno: number): number {
  unregisterAll(k, ring);
  return errno;
}

/** IORING_UNREGISTER_BUFFERS: -ENXIO when none are registered. */
export function ioUringUnregisterBuffers(k: Kernel, task: Task, ringFd: number): number {
  const ring = rings.get(task.files.get(ringFd)!);
  if (!ring) return -ERRNO.EBADF;
  if (!ring.buffers) return -ERRNO.ENXIO;
  unregisterAll(k, ring);
  return 0;
}
