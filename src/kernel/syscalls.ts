// The system calls and ioctls a workload can make, as kernel entry points: addresses and lengths
// in bytes, results a value or a negative errno. Handlers that take simulated time are
// generators yielding sleeps.
import type { Sleep } from '../sim/engine.js';
import { sleep } from '../sim/engine.js';
import { PAGE_SIZE, pageSpan } from '../sim/units.js';
import { directIo } from './block/direct_io.js';
import { ERRNO } from './config.js';
import { FAULT_PAGE_NS } from './cost.js';
import { dmaHeapFind } from './drivers/dma-buf/heaps.js';
import { rdmaDeregMr, rdmaOpen, rdmaRegMr } from './drivers/infiniband/umem.js';
import {
  teeInvoke,
  teeOpen,
  teeShmAlloc,
  teeShmMmap,
  teeShmRegister,
} from './drivers/tee/tee_shm.js';
import { vfioMapDma, vfioOpen, vfioUnmapDma } from './drivers/vfio/vfio_iommu_type1.js';
import { dropCaches, fileRw, memfdCreate, mmapFile, openFile } from './fs/vfs.js';
import { ioUringRegisterBuffers, ioUringSetup, ioUringUnregisterBuffers } from './io_uring/rsrc.js';
import type { Kernel } from './kernel.js';
import { cmaDebugfsAlloc, cmaDebugfsFree } from './mm/cma.js';
import { gupTestPin, gupTestUnpin } from './mm/gup_test.js';
import { mlock, mlockall, mlockFutureOk, munlock, munlockall } from './mm/mlock.js';
import { type FsType, VM_LOCKED, VM_READ, VM_WRITE, vmEnoughMemory } from './mm/mmap.js';
import { ObjKind } from './mm/rmap.js';
import type { Task } from './task.js';

export type SysResult = number | { fd: number; id: number };
type Handler = (k: Kernel, task: Task, ...args: never[]) => SysResult | Generator<Sleep, SysResult>;

/** mmap(MAP_ANONYMOUS|MAP_PRIVATE [|MAP_LOCKED]): an address. */
function mmapAnon(k: Kernel, task: Task, len: number, locked: boolean): SysResult {
  const pages = Math.ceil(len / PAGE_SIZE);
  if (pages === 0) return -ERRNO.EINVAL;
  if (locked && !task.canDoMlock()) return -ERRNO.EPERM;
  // do_mmap: vm_flags include mm->def_flags, so mlockall(MCL_FUTURE) mappings are checked too;
  // over the limit is -EAGAIN, not -ENOMEM (§4.6; docs/fidelity.md)
  if (!mlockFutureOk(task, (locked ? VM_LOCKED : 0) | task.mm.defFlags, pages)) {
    return -ERRNO.EAGAIN;
  }
  // mmap_region(): an accountable mapping larger than RAM; the model's object limits
  if (!vmEnoughMemory(k, pages) || !k.rmap.hasRoom(pages)) return -ERRNO.ENOMEM;
  const obj = k.rmap.create(ObjKind.ANON, pages, `anon:${task.pid}`);
  const v = task.mm.insert(pages, VM_READ | VM_WRITE | (locked ? VM_LOCKED : 0), obj, 0);
  if (v.flags & VM_LOCKED) for (let va = v.start; va < v.end; va++) task.mm.fault(v, va, false);
  return v.start * PAGE_SIZE;
}

/** Access every page of a range (a write by default): the page faults (MOVABLE, so CMA-eligible, §1.6). */
function* touch(
  _k: Kernel,
  task: Task,
  addr: number,
  len: number,
  write: boolean,
): Generator<Sleep, SysResult> {
  const [start, n] = pageSpan(addr, len);
  const end = start + n;
  let faulted = 0;
  for (let va = start; va < end; ) {
    const v = task.mm.findVma(va);
    if (!v || (write && !(v.flags & VM_WRITE))) return -ERRNO.EFAULT; // SIGSEGV
    for (const stop = Math.min(end, v.end); va < stop; va++) {
      if (v.pageAt(va) >= 0) {
        if (write && v.ptes) task.mm.fault(v, va, false, true); // dirties a clean shared page
        continue;
      }
      if (task.mm.fault(v, va, false, write) < 0) return -ERRNO.ENOMEM; // VM_FAULT_OOM
      faulted++;
    }
  }
  yield sleep(faulted * FAULT_PAGE_NS);
  return 0;
}

function munmap(_k: Kernel, task: Task, addr: number, len: number): SysResult {
  const [start, n] = pageSpan(addr, len);
  if (addr % PAGE_SIZE || n === 0) return -ERRNO.EINVAL;
  task.mm.unmap(start, start + n);
  return 0;
}

function mprotect(_k: Kernel, task: Task, addr: number, len: number, writable: boolean): SysResult {
  if (addr % PAGE_SIZE) return -ERRNO.EINVAL; // do_mprotect_pkey: start & ~PAGE_MASK
  const [start, n] = pageSpan(addr, len);
  return task.mm.protect(start, start + n, writable) ? 0 : -ERRNO.ENOMEM;
}

/** open(): the devices cmascope models, or a regular file created with `size` bytes on `fs`. */
function open(k: Kernel, task: Task, path: string, fs: FsType, size: number): SysResult {
  switch (path) {
    case '/dev/tee0':
      return teeOpen(task);
    case '/dev/infiniband/uverbs0':
      return rdmaOpen(k, task);
    case '/dev/vfio/vfio':
      return vfioOpen(k, task);
    default:
      if (path.startsWith('/dev/')) return -ERRNO.ENOENT;
      return openFile(k, task, path, fs, size);
  }
}

function* dmaHeapAlloc(
  k: Kernel,
  task: Task,
  heap: string,
  len: number,
): Generator<Sleep, SysResult> {
  const h = dmaHeapFind(k, heap);
  if (!h) return -ERRNO.ENOENT;
  return yield* h.allocate(k, task, len);
}

/**
 * A write of `value` (as its decimal text) to debugfs cma/<area>/alloc or free:
 * simple_attr_write() parses a u64 with kstrtoull (-EINVAL for '-5', '1.5', 'NaN'), then
 * cma_alloc_write()/cma_free_write() keep `int pages = val` (mm/cma_debug.c).
 */
function* cmaDebugfs(k: Kernel, _task: Task, area: string, op: 'alloc' | 'free', value: number) {
  const cma = k.cmaByName(area);
  if (!cma) return -ERRNO.ENOENT;
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 64) return -ERRNO.EINVAL;
  const pages = Number(BigInt.asIntN(32, BigInt(value)));
  if (op === 'free') {
    cmaDebugfsFree(k, cma, pages);
    return 0;
  }
  return yield* cmaDebugfsAlloc(k, cma, pages);
}

export const SYSCALLS = {
  mmap_anon: mmapAnon,
  mmap_file: (
    k: Kernel,
    task: Task,
    fd: number,
    len: number,
    shared: boolean,
    writable: boolean,
    offset: number,
  ) => mmapFile(k, task, fd, len, { shared, writable, offset }),
  mmap_fd: (k: Kernel, task: Task, fd: number) => teeShmMmap(k, task, fd),
  munmap,
  mprotect,
  touch,
  mlock: (k: Kernel, task: Task, addr: number, len: number) =>
    mlock(k, task, ...pageSpan(addr, len)),
  munlock: (k: Kernel, task: Task, addr: number, len: number) =>
    munlock(k, task, ...pageSpan(addr, len)),
  mlockall: (k: Kernel, task: Task, flags: number) => mlockall(k, task, flags),
  munlockall: (k: Kernel, task: Task) => munlockall(k, task),
  open,
  memfd_create: (k: Kernel, task: Task, name: string, size: number) =>
    memfdCreate(k, task, name, size),
  close: (_k: Kernel, task: Task, fd: number) => (task.files.close(fd) ? 0 : -ERRNO.EBADF),
  dup: (_k: Kernel, task: Task, fd: number) => {
    const r = task.files.dup(fd);
    return r < 0 ? -ERRNO.EBADF : r;
  },
  read: (k: Kernel, task: Task, fd: number, offset: number, len: number) =>
    fileRw(k, task, fd, offset, len, false),
  write: (k: Kernel, task: Task, fd: number, offset: number, len: number) =>
    fileRw(k, task, fd, offset, len, true),
  drop_caches: (k: Kernel) => dropCaches(k),
  tee_shm_register: teeShmRegister,
  tee_shm_alloc: teeShmAlloc,
  tee_invoke: teeInvoke,
  io_uring_setup: ioUringSetup,
  io_uring_register_buffers: ioUringRegisterBuffers,
  io_uring_unregister_buffers: ioUringUnregisterBuffers,
  rdma_reg_mr: rdmaRegMr,
  rdma_dereg_mr: rdmaDeregMr,
  vfio_map_dma: vfioMapDma,
  vfio_unmap_dma: vfioUnmapDma,
  direct_io: directIo,
  gup_test_pin: (k: Kernel, task: Task, addr: number, len: number, write: boolean, fast: boolean) =>
    gupTestPin(k, task, addr, len, { write, fast }),
  gup_test_unpin: gupTestUnpin,
  dma_heap_alloc: dmaHeapAlloc,
  cma_debugfs: cmaDebugfs,
} satisfies Record<string, Handler>;
