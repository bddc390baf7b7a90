// The TEE subsystem's shared memory (drivers/tee/tee_core.c, tee_shm.c, optee/smc_abi.c; kernel-model.md §5),
// with the FOLL_LONGTERM patch positions and the hypothetical memlock accounting as policies
// (§5.4, §6 items 7–8).
import type { Sleep } from '../../../sim/engine.js';
import { sleep } from '../../../sim/engine.js';
import { bytesToPages, getOrder, PAGE_SIZE, pageSpan } from '../../../sim/units.js';
import { ERRNO } from '../../config.js';
import { features } from '../../features.js';
import { File } from '../../fs/file.js';
import type { Kernel } from '../../kernel.js';
import type { Charge } from '../../mm/charge.js';
import { __GFP_ZERO, GFP_KERNEL } from '../../mm/gfp.js';
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPagesFast, unpinUserPages } from '../../mm/gup.js';
import { VM_IO, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE } from '../../mm/mmap.js';
import { PageKind } from '../../mm/page.js';
import {
  type ChargeResult,
  chargeIoUring,
  chargeRdma,
  chargeVfio,
  ringUser,
  uncharge,
} from '../../mm/pin_acct.js';
import { ObjKind } from '../../mm/rmap.js';
import type { PinHolder } from '../../observe/blame.js';
import { KERN_WARNING } from '../../observe/printk.js';
import type { Task } from '../../task.js';

export const TEE_SHM_DYNAMIC = 1 << 0;
export const TEE_SHM_USER_MAPPED = 1 << 1;
export const TEE_SHM_POOL = 1 << 2;

/** TASK_SIZE for access_ok() (48-bit user address space). */
const TASK_SIZE = 2 ** 47;
/** alloc_pages_exact() cannot go past MAX_PAGE_ORDER: 4 MiB (§5.1). */
const TEE_SHM_ALLOC_MAX = 4 << 20;

/** What the secure world and the driver accept (C30). */
export interface TeeConfig {
  /** the driver has shm_register/unregister ops (else -ENOTSUPP) */
  registerOps: boolean;
  /** OP-TEE accepts dynamic shared memory (else REGISTER_SHM fails: -EINVAL) */
  dynamicShm: boolean;
}

export class TeeContext {
  /** the /dev/tee0 fd plus one per shm (teedev_ctx_get) */
  refs = 1;
}

export class TeeShm {
  /** 1 for the fd; tee_shm_get_from_id adds one per in-flight invoke (§5.3) */
  refs = 1;
  fdClosed = false;
  holder?: PinHolder;
  charge?: Charge;
  constructor(
    readonly id: number,
    readonly ctx: TeeContext,
    readonly flags: number,
    readonly pfns: number[],
    readonly ownerPid: number,
  ) {}
}

/** The TEE device: its shm idr and its configuration. */
class TeeDevice {
  readonly shms = new Map<number, TeeShm>();
  constructor(readonly config: TeeConfig) {}

  /** idr_alloc(&teedev->idr, shm, 1, 0): the lowest free id >= 1. */
  allocId(): number {
    let id = 1;
    while (this.shms.has(id)) id++;
    return id;
  }
}

/** Each kernel's TEE device, probed at boot (boot.ts): the driver's own state, as in the kernel. */
const devices = new WeakMap<Kernel, TeeDevice>();

/** optee_probe(): the device of `k`, with what the secure world accepts. */
export function teeProbe(k: Kernel, config: TeeConfig): void {
  devices.set(k, new TeeDevice(config));
}

/** The TEE device of `k` (its shms, for the tests and the invariant checks). */
export function teeDevice(k: Kernel): TeeDevice {
  const dev = devices.get(k);
  if (!dev) throw new Error('the TEE driver was not probed (boot with bootKernel)');
  return dev;
}

/** open("/dev/tee0"): a context fd. */
export function teeOpen(task: Task): number {
  const ctx = new TeeContext();
  const file = new File('tee_ctx', () => ctx.refs--);
  ctxOf.set(file, ctx);
  return task.files.install(file);
}

const ctxOf = new WeakMap<File, TeeContext>();
const shmOf = new WeakMap<File, TeeShm>();

/** tee_shm_put(): the last reference releases the shm (tee_shm_release, §5.3). */
function shmPut(k: Kernel, shm: TeeShm): void {
  if (--shm.refs > 0) return;
  teeDevice(k).shms.delete(shm.id);
  if (shm.flags & TEE_SHM_USER_MAPPED) {
    // optee_shm_unregister, then release_registered_pages → unpin_user_pages
    if (shm.holder) k.pins.remove(shm.holder);
    unpinUserPages(k, shm.pfns);
    if (shm.charge) uncharge(shm.charge); // §6 item 8: un-charged at the last put, not munmap
  } else {
    k.alloc.freeRange(shm.pfns[0]!, shm.pfns[0]! + shm.pfns.length);
  }
  shm.ctx.refs--;
}

function installShm(k: Kernel, task: Task, shm: TeeShm): { fd: number; id: number } {
  teeDevice(k).shms.set(shm.id, shm);
  const file = new File('tee_shm', () => {
    shm.fdClosed = true;
    shmPut(k, shm);
  });
  shmOf.set(file, shm);
  return { fd: task.files.install(file), id: shm.id };
}

/** The pin flags of register_shm_helper under the teePin policy (§5.4, §6 item 7). */
function registerPinFlags(k: Kernel): number {
  const p = k.policies;
  const longterm =
    p.pinsLongtermByDefault ||
    p.teePin === 'v2-longterm' ||
    (p.teePin === 'v1-cma-ifdef' && k.cma.length > 0); // IS_ENABLED(CONFIG_CMA)
  return FOLL_WRITE | (longterm ? FOLL_LONGTERM : 0);
}

/** Charge the registration per the teeAccounting policy; `when` says which side of the pin. */
function teeCharge(
  k: Kernel,
  task: Task,
  pages: number,
  when: 'before' | 'after',
): ChargeResult | undefined {
  switch (k.policies.teeAccounting) {
    case 'rdma':
      return when === 'before' ? chargeRdma(task, pages, 'tee_shm') : undefined;
    case 'io_uring':
      return when === 'after'
        ? chargeIoUring(task, pages, ringUser(task), task.mm, 'tee_shm')
        : undefined;
    case 'vfio':
      return when === 'after' ? chargeVfio(task, pages, 'tee_shm') : undefined;
    default:
      return undefined;
  }
}

/**
 * TEE_IOC_SHM_REGISTER (§5.1): pins the user buffer per the teePin policy and returns the shm fd
 * and id, or a negative errno. Long-term pins migrate pages out of CMA first, which takes time.
 */
export function* teeShmRegister(
  k: Kernel,
  task: Task,
  ctxFd: number,
  addr: number,
  length: number,
  flags: number,
): Generator<Sleep, { fd: number; id: number } | number> {
  const ctx = ctxOf.get(task.files.get(ctxFd)!);
  if (!ctx) return -ERRNO.EBADF;
  if (flags !== 0) return -ERRNO.EINVAL;
  if (addr < 0 || addr + length > TASK_SIZE) return -ERRNO.EFAULT; // access_ok
  if (!teeDevice(k).config.registerOps) return -ERRNO.ENOTSUPP;
  // 6.8+: iov_iter_npages() of an empty iterator is 0, -ENOMEM at any address (§5.1). 6.4 spans
  // rounddown(addr)..roundup(addr + len): one page for an unaligned empty range; none for an
  // aligned one, which optee_shm_register() refuses (`!num_pages`: -EINVAL)
  if (length === 0 && features(k.version).teeShmIovIter) return -ERRNO.ENOMEM;
  const [start, numPages] = pageSpan(addr, length);
  if (numPages === 0) return -ERRNO.EINVAL;
  const tried = teeCharge(k, task, numPages, 'before');
  if (tried && !tried.ok) return tried.errno;
  const before = tried?.charge;
  const pfns: number[] = [];
  const pinFlags = registerPinFlags(k);
  const rc = pinUserPagesFast(k, task.mm, start, numPages, pinFlags, pfns);
  yield sleep(k.takeCharge());
  const fail = (errno: number) => {
    unpinUserPages(k, pfns);
    if (before) uncharge(before);
    return errno;
  };
  if (rc !== numPages) return fail(rc < 0 ? rc : -ERRNO.ENOMEM); // a partial pin is -ENOMEM
  const late = teeCharge(k, task, numPages, 'after');
  if (late && !late.ok) return fail(late.errno);
  const after = late?.charge;
  // optee_shm_register: optee_check_mem_type, then OPTEE_MSG_CMD_REGISTER_SHM (§5.2)
  const badType = task.mm.vmas.some(
    (v) => v.end > start && v.start < start + numPages && v.memtype !== 'normal',
  );
  if (badType || !teeDevice(k).config.dynamicShm) {
    if (after) uncharge(after);
    return fail(-ERRNO.EINVAL);
  }
  const id = teeDevice(k).allocId();
  const shm = new TeeShm(id, ctx, TEE_SHM_USER_MAPPED | TEE_SHM_DYNAMIC, pfns, task.pid);
  shm.charge = before ?? after;
  if (shm.charge) shm.charge.by.id = shm.id;
  ctx.refs++;
  shm.holder = k.pins.add({
    pid: task.pid,
    comm: task.comm,
    via: () => (shm.fdClosed ? 'tee_invoke' : 'tee_shm'),
    id: shm.id,
    pfns,
    longterm: (pinFlags & FOLL_LONGTERM) !== 0,
  });
  return installShm(k, task, shm);
}

/** TEE_IOC_SHM_ALLOC (§5.1, C29): unmovable, physically contiguous, never CMA, at most 4 MiB. */
export function teeShmAlloc(
  k: Kernel,
  task: Task,
  ctxFd: number,
  size: number,
): { fd: number; id: number } | number {
  const ctx = ctxOf.get(task.files.get(ctxFd)!);
  if (!ctx) return -ERRNO.EBADF;
  if (size <= 0 || size > TEE_SHM_ALLOC_MAX) return -ERRNO.ENOMEM;
  const gfp = GFP_KERNEL | __GFP_ZERO;
  let pages = bytesToPages(size);
  let pfn: number;
  if (!features(k.version).teeShmAllocExact) {
    // 6.4 optee_pool_op_alloc_helper: alloc_pages(get_order(size)), size PAGE_SIZE << order (§5.1)
    const order = getOrder(size);
    pages = 1 << order;
    pfn = k.alloc.allocPages(order, gfp, PageKind.KERNEL);
  } else {
    pfn = k.alloc.allocPagesExact(pages, gfp, PageKind.KERNEL); // tee_dyn_shm_alloc_helper
  }
  if (pfn < 0) {
    // warn_alloc()'s first line; the kernel's value and %pGg names of GFP_KERNEL | __GFP_ZERO,
    // no nodemask, then cpuset_print_current_mems_allowed() (CONFIG_CPUSETS, the root cpuset)
    k.printk(
      KERN_WARNING,
      `${task.comm}: page allocation failure: order:${getOrder(size)}, mode:0xdc0(GFP_KERNEL|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0`,
    );
    return -ERRNO.ENOMEM;
  }
  const pfns = Array.from({ length: pages }, (_, i) => pfn + i);
  const id = teeDevice(k).allocId();
  const shm = new TeeShm(id, ctx, TEE_SHM_DYNAMIC | TEE_SHM_POOL, pfns, task.pid);
  ctx.refs++;
  return installShm(k, task, shm);
}

/** mmap() of a shm fd: pool memory is remap_pfn_range'd; a registered shm is -EINVAL (§5.1). */
export function teeShmMmap(k: Kernel, task: Task, shmFd: number): number {
  const shm = shmOf.get(task.files.get(shmFd)!);
  if (!shm) return -ERRNO.EBADF;
  if (shm.flags & TEE_SHM_USER_MAPPED) return -ERRNO.EINVAL;
  if (!k.rmap.hasRoom(shm.pfns.length)) return -ERRNO.ENOMEM;
  const obj = k.rmap.create(ObjKind.ANON, shm.pfns.length, `tee_shm:${shm.id}`);
  const v = task.mm.insert(
    shm.pfns.length,
    VM_READ | VM_WRITE | VM_SHARED | VM_IO | VM_PFNMAP,
    obj,
    0,
  );
  return v.start * PAGE_SIZE;
}

/**
 * An OP-TEE invoke whose memrefs name these shm ids: each is held (tee_shm_get_from_id) for the
 * duration of the call, so its pages stay pinned even if the fd is closed meanwhile (§5.3).
 */
export function* teeInvoke(
  k: Kernel,
  task: Task,
  ctxFd: number,
  shmIds: readonly number[],
  durationNs: number,
): Generator<Sleep, number> {
  const ctx = ctxOf.get(task.files.get(ctxFd)!);
  if (!ctx) return -ERRNO.EBADF;
  const held: TeeShm[] = [];
  for (const id of shmIds) {
    const shm = teeDevice(k).shms.get(id);
    if (!shm || shm.ctx !== ctx) {
      for (const h of held) shmPut(k, h);
      return -ERRNO.EINVAL;
    }
    shm.refs++;
    held.push(shm);
  }
  try {
    yield sleep(durationNs);
  } finally {
    for (const h of held) shmPut(k, h);
  }
  return 0;
}
