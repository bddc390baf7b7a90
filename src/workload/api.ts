// What a workload's actors hold: `p`, a process that makes system calls, and `sys`, the
// simulation (spawn, time, randomness, results). Every method that enters the kernel returns a
// Call to yield; it resumes with the value, or with an errno name such as 'ENOMEM'.

import { ERRNO, type Errno } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import { MCL_CURRENT, MCL_FUTURE } from '../kernel/mm/mlock.js';
import { FS_TYPES, type FsType } from '../kernel/mm/mmap.js';
import { SYSCALLS, type SysResult } from '../kernel/syscalls.js';
import type { Task } from '../kernel/task.js';
import type { Body, JoinEffect, Sleep } from '../sim/engine.js';
import { PAGE_SIZE, parseDuration, parseSize } from '../sim/units.js';
import {
  argError,
  expectArray,
  expectFunction,
  expectId,
  expectOptions,
  expectString,
} from './args.js';
import { Call, type Credentials, type Simulation } from './runtime.js';

/** A mapped range of a process's address space. */
export class Buf {
  constructor(
    readonly addr: number,
    readonly len: number,
  ) {}
}

/** A registered or allocated TEE shared memory: its fd and id. */
export interface Shm {
  fd: number;
  id: number;
}

export type Size = string | number;
export type Duration = string | number;
/** An actor: `function* (p) { ... }` */
export type Actor = (p: Process) => Body<unknown>;
export type Result<T> = T | Errno;

function expectBuf(b: unknown, what: string): Buf {
  if (!(b instanceof Buf)) throw argError(`${what} expects a buffer from mmapAnon/mmapFile`, b);
  return b;
}

function expectFd(f: unknown, what: string): number {
  const fd = typeof f === 'object' && f !== null && 'fd' in f ? (f as Shm).fd : f;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0)
    throw argError(`${what} expects a file descriptor`, f);
  return fd;
}

/** The area and page count of a debugfs write: the count as a number, its text is the kernel's. */
function expectDebugfsWrite(method: string, area: unknown, pages: unknown): void {
  expectString(area, `${method} expects a CMA area name`);
  if (typeof pages !== 'number') throw argError(`${method} expects a number of pages`, pages);
}

type Run = (k: Kernel, t: Task) => SysResult | Generator<Sleep, SysResult>;
const asNumber = (r: SysResult) => r as number;
const asBuf = (len: number) => (r: SysResult) => new Buf(r as number, len);

export class Process {
  constructor(
    protected readonly sim: Simulation,
    readonly task: Task,
  ) {}

  get pid(): number {
    return this.task.pid;
  }

  protected call<T>(name: string, run: Run, map: (r: SysResult) => T): Call<T> {
    return new Call(this.task, name, run, map);
  }

  private num(name: string, run: Run): Call<number> {
    return this.call(name, run, asNumber);
  }

  // ---- memory ------------------------------------------------------------------------------

  /** mmap(MAP_PRIVATE|MAP_ANONYMOUS [|MAP_LOCKED]): pages appear on first touch. */
  mmapAnon(size: Size, opts: { locked?: boolean } = {}): Call<Result<Buf>> {
    const len = parseSize(size, 'mapping size');
    const { locked = false } = expectOptions(opts, 'mmapAnon', { locked: 'boolean' });
    return this.call('mmap', (k, t) => SYSCALLS.mmap_anon(k, t, len, locked), asBuf(len));
  }

  /** mmap of a file: MAP_SHARED maps its page cache; MAP_PRIVATE copies on write. */
  mmapFile(
    fd: number,
    size: Size,
    opts: { shared?: boolean; write?: boolean; offset?: Size } = {},
  ): Call<Result<Buf>> {
    const f = expectFd(fd, 'mmapFile');
    const len = parseSize(size, 'mapping size');
    const o = expectOptions(opts, 'mmapFile', {
      shared: 'boolean',
      write: 'boolean',
      offset: 'size',
    });
    const off = parseSize(o.offset ?? 0, 'offset');
    const { shared = true, write = true } = o;
    return this.call(
      'mmap',
      (k, t) => SYSCALLS.mmap_file(k, t, f, len, shared, write, off),
      asBuf(len),
    );
  }

  /** mmap of a TEE shm fd (pool memory only; a registered shm gives EINVAL). */
  mmapShm(shm: Shm): Call<Result<Buf>> {
    const fd = expectFd(shm, 'mmapShm');
    return this.call(
      'mmap',
      (k, t) => SYSCALLS.mmap_fd(k, t, fd),
      (r) => new Buf(r as number, PAGE_SIZE),
    );
  }

  munmap(buf: Buf): Call<Result<number>> {
    const b = expectBuf(buf, 'munmap');
    return this.num('munmap', (k, t) => SYSCALLS.munmap(k, t, b.addr, b.len));
  }

  mprotect(buf: Buf, prot: 'r' | 'rw'): Call<Result<number>> {
    const b = expectBuf(buf, 'mprotect');
    if (prot !== 'r' && prot !== 'rw') throw argError("mprotect expects 'r' or 'rw'", prot);
    return this.num('mprotect', (k, t) => SYSCALLS.mprotect(k, t, b.addr, b.len, prot === 'rw'));
  }

  /** Access every page (a write unless `write: false`): faults them in. */
  touch(buf: Buf, opts: { write?: boolean } = {}): Call<Result<number>> {
    const b = expectBuf(buf, 'touch');
    const { write = true } = expectOptions(opts, 'touch', { write: 'boolean' });
    return this.num('touch', (k, t) => SYSCALLS.touch(k, t, b.addr, b.len, write));
  }

  mlock(buf: Buf): Call<Result<number>> {
    const b = expectBuf(buf, 'mlock');
    return this.num('mlock', (k, t) => SYSCALLS.mlock(k, t, b.addr, b.len));
  }

  munlock(buf: Buf): Call<Result<number>> {
    const b = expectBuf(buf, 'munlock');
    return this.num('munlock', (k, t) => SYSCALLS.munlock(k, t, b.addr, b.len));
  }

  mlockall(
    opts: { current?: boolean; future?: boolean } = { current: true },
  ): Call<Result<number>> {
    const o = expectOptions(opts, 'mlockall', { current: 'boolean', future: 'boolean' });
    const flags = (o.current ? MCL_CURRENT : 0) | (o.future ? MCL_FUTURE : 0);
    return this.num('mlockall', (k, t) => SYSCALLS.mlockall(k, t, flags));
  }

  munlockall(): Call<Result<number>> {
    return this.num('munlockall', (k, t) => SYSCALLS.munlockall(k, t));
  }

  // ---- files -------------------------------------------------------------------------------

  /** open(): '/dev/tee0', '/dev/infiniband/uverbs0', '/dev/vfio/vfio', or a regular file. */
  open(path: string, opts: { fs?: FsType; size?: Size } = {}): Call<Result<number>> {
    expectString(path, 'open expects a path');
    const o = expectOptions(opts, 'open', { fs: 'string', size: 'size' });
    const fs = o.fs ?? 'ext4';
    if (!FS_TYPES.includes(fs))
      throw argError(`open: fs must be one of ${FS_TYPES.join(', ')}`, fs);
    const size = parseSize(o.size ?? 0, 'file size');
    return this.num('open', (k, t) => SYSCALLS.open(k, t, path, fs, size));
  }

  memfd(name: string, size: Size): Call<Result<number>> {
    expectString(name, 'memfd expects a name');
    const bytes = parseSize(size, 'memfd size');
    return this.num('memfd_create', (k, t) => SYSCALLS.memfd_create(k, t, name, bytes));
  }

  close(f: number | Shm): Call<Result<number>> {
    const fd = expectFd(f, 'close');
    return this.num('close', (k, t) => SYSCALLS.close(k, t, fd));
  }

  dup(f: number | Shm): Call<Result<number>> {
    const fd = expectFd(f, 'dup');
    return this.num('dup', (k, t) => SYSCALLS.dup(k, t, fd));
  }

  /** Buffered read: fills the page cache. */
  read(fd: number, size: Size, opts: { offset?: Size } = {}): Call<Result<number>> {
    const f = expectFd(fd, 'read');
    const len = parseSize(size, 'read size');
    const o = expectOptions(opts, 'read', { offset: 'size' });
    const off = parseSize(o.offset ?? 0, 'offset');
    return this.num('read', (k, t) => SYSCALLS.read(k, t, f, off, len));
  }

  /** Buffered write: dirties the page cache. */
  write(fd: number, size: Size, opts: { offset?: Size } = {}): Call<Result<number>> {
    const f = expectFd(fd, 'write');
    const len = parseSize(size, 'write size');
    const o = expectOptions(opts, 'write', { offset: 'size' });
    const off = parseSize(o.offset ?? 0, 'offset');
    return this.num('write', (k, t) => SYSCALLS.write(k, t, f, off, len));
  }

  /** echo 1 > /proc/sys/vm/drop_caches: returns the pages dropped. */
  dropCaches(): Call<Result<number>> {
    return this.num('drop_caches', (k) => SYSCALLS.drop_caches(k));
  }

  // ---- pins --------------------------------------------------------------------------------

  /** TEE_IOC_SHM_REGISTER on a /dev/tee0 fd: pins `buf` as the teePin policy says. */
  teeShmRegister(ctx: number, buf: Buf, opts: { flags?: number } = {}): Call<Result<Shm>> {
    const c = expectFd(ctx, 'teeShmRegister');
    const b = expectBuf(buf, 'teeShmRegister');
    const o = expectOptions(opts, 'teeShmRegister', { flags: 'number' });
    const flags = expectId(o.flags ?? 0, 'teeShmRegister: flags must be a u32');
    return this.call(
      'tee_shm_register',
      (k, t) => SYSCALLS.tee_shm_register(k, t, c, b.addr, b.len, flags),
      (r) => r as Shm,
    );
  }

  /** TEE_IOC_SHM_ALLOC: unmovable, contiguous, at most 4 MiB. */
  teeShmAlloc(ctx: number, size: Size): Call<Result<Shm>> {
    const c = expectFd(ctx, 'teeShmAlloc');
    const bytes = parseSize(size, 'shm size');
    return this.call(
      'tee_shm_alloc',
      (k, t) => SYSCALLS.tee_shm_alloc(k, t, c, bytes),
      (r) => r as Shm,
    );
  }

  /** An OP-TEE invoke holding these shms for `duration`. */
  teeInvoke(
    ctx: number,
    shms: readonly (Shm | number)[],
    duration: Duration,
  ): Call<Result<number>> {
    const c = expectFd(ctx, 'teeInvoke');
    const ids = expectArray(shms, 'teeInvoke expects an array of shms').map((s) =>
      expectId(
        typeof s === 'object' && s !== null && 'id' in s ? s.id : s,
        'teeInvoke expects shms from teeShmAlloc/teeShmRegister, or their ids',
      ),
    );
    const ns = parseDuration(duration, 'invoke duration');
    return this.num('tee_invoke', (k, t) => SYSCALLS.tee_invoke(k, t, c, ids, ns));
  }

  /** io_uring_setup(): a ring fd. */
  ioUringSetup(): Call<Result<number>> {
    return this.num('io_uring_setup', (k, t) => SYSCALLS.io_uring_setup(k, t));
  }

  /** IORING_REGISTER_BUFFERS. */
  ioUringRegisterBuffers(ring: number, bufs: readonly Buf[]): Call<Result<number>> {
    const r = expectFd(ring, 'ioUringRegisterBuffers');
    const iovecs = expectArray(bufs, 'ioUringRegisterBuffers expects an array of buffers')
      .map((b) => expectBuf(b, 'ioUringRegisterBuffers'))
      .map((b) => ({ addr: b.addr, len: b.len }));
    return this.num('io_uring_register_buffers', (k, t) =>
      SYSCALLS.io_uring_register_buffers(k, t, r, iovecs),
    );
  }

  ioUringUnregisterBuffers(ring: number): Call<Result<number>> {
    const r = expectFd(ring, 'ioUringUnregisterBuffers');
    return this.num('io_uring_unregister_buffers', (k, t) =>
      SYSCALLS.io_uring_unregister_buffers(k, t, r),
    );
  }

  /** ibv_reg_mr on a /dev/infiniband/uverbs0 fd: an MR handle. */
  rdmaRegMr(ctx: number, buf: Buf, opts: { write?: boolean } = {}): Call<Result<number>> {
    const c = expectFd(ctx, 'rdmaRegMr');
    const b = expectBuf(buf, 'rdmaRegMr');
    const { write = true } = expectOptions(opts, 'rdmaRegMr', { write: 'boolean' });
    return this.num('rdma_reg_mr', (k, t) => SYSCALLS.rdma_reg_mr(k, t, c, b.addr, b.len, write));
  }

  rdmaDeregMr(ctx: number, mr: number): Call<Result<number>> {
    const c = expectFd(ctx, 'rdmaDeregMr');
    const h = expectId(mr, 'rdmaDeregMr expects an MR handle from rdmaRegMr');
    return this.num('rdma_dereg_mr', (k, t) => SYSCALLS.rdma_dereg_mr(k, t, c, h));
  }

  /** VFIO_IOMMU_MAP_DMA on a /dev/vfio/vfio fd: a mapping id. */
  vfioMapDma(fd: number, buf: Buf): Call<Result<number>> {
    const f = expectFd(fd, 'vfioMapDma');
    const b = expectBuf(buf, 'vfioMapDma');
    return this.num('vfio_map_dma', (k, t) => SYSCALLS.vfio_map_dma(k, t, f, b.addr, b.len));
  }

  vfioUnmapDma(fd: number, id: number): Call<Result<number>> {
    const f = expectFd(fd, 'vfioUnmapDma');
    const m = expectId(id, 'vfioUnmapDma expects a mapping id from vfioMapDma');
    return this.num('vfio_unmap_dma', (k, t) => SYSCALLS.vfio_unmap_dma(k, t, f, m));
  }

  /** O_DIRECT I/O on `buf` lasting `duration`: a short-term reference (FOLL_GET on 6.4, FOLL_PIN on 6.18). */
  directIo(buf: Buf, opts: { duration: Duration; read?: boolean }): Call<Result<number>> {
    const b = expectBuf(buf, 'directIo');
    const o = expectOptions(opts, 'directIo', { duration: 'duration', read: 'boolean' });
    if (o.duration === undefined) throw argError('directIo expects options { duration }', opts);
    const ns = parseDuration(o.duration, 'I/O duration');
    const { read = true } = o;
    return this.num('direct_io', (k, t) => SYSCALLS.direct_io(k, t, b.addr, b.len, ns, read));
  }

  /** gup_test PIN_LONGTERM_TEST_START: a long-term pin held until gupUnpin(). */
  gupPin(buf: Buf, opts: { write?: boolean; fast?: boolean } = {}): Call<Result<number>> {
    const b = expectBuf(buf, 'gupPin');
    const o = expectOptions(opts, 'gupPin', { write: 'boolean', fast: 'boolean' });
    const { write = true, fast = false } = o;
    return this.num('gup_test_pin', (k, t) =>
      SYSCALLS.gup_test_pin(k, t, b.addr, b.len, write, fast),
    );
  }

  gupUnpin(): Call<Result<number>> {
    return this.num('gup_test_unpin', (k, t) => SYSCALLS.gup_test_unpin(k, t));
  }

  // ---- CMA clients -------------------------------------------------------------------------

  /** DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/<heap>: a dma-buf fd; close it to free. */
  dmaHeapAlloc(heap: string, size: Size): Call<Result<number>> {
    expectString(heap, 'dmaHeapAlloc expects a heap name');
    const len = parseSize(size, 'buffer size');
    return this.num('dma_heap_alloc', (k, t) => SYSCALLS.dma_heap_alloc(k, t, heap, len));
  }

  /**
   * echo N > /sys/kernel/debug/cma/<area>/alloc (align 0). N is written as its decimal text: what
   * is not a u64 (-5, 1.5, NaN) is the kernel's -EINVAL.
   */
  cmaDebugfsAlloc(area: string, pages: number): Call<Result<number>> {
    expectDebugfsWrite('cmaDebugfsAlloc', area, pages);
    return this.num('cma_debugfs_alloc', (k, t) =>
      SYSCALLS.cma_debugfs(k, t, area, 'alloc', pages),
    );
  }

  /** echo N > /sys/kernel/debug/cma/<area>/free. */
  cmaDebugfsFree(area: string, pages: number): Call<Result<number>> {
    expectDebugfsWrite('cmaDebugfsFree', area, pages);
    return this.num('cma_debugfs_free', (k, t) => SYSCALLS.cma_debugfs(k, t, area, 'free', pages));
  }

  // ---- processes and time ------------------------------------------------------------------

  /** A log line, with this process's pid: it appears in every output (`sys.log` is the main actor's). */
  log(msg: string): void {
    this.sim.logs.push({ t: this.sim.engine.now, pid: this.pid, msg: String(msg) });
  }

  sleep(d: Duration): Sleep {
    return this.sim.sleep(d);
  }

  /** fork(): the child runs `body` with a copy of the memory and every open fd. */
  fork(comm: string, body: Actor): Call<Result<number>> {
    expectString(comm, 'fork expects a process name');
    expectFunction(body, 'fork expects a generator function as its body');
    return this.num('fork', () => {
      const child = this.sim.fork(this.task, comm, (t) => body(new Process(this.sim, t)));
      return child ? child.pid : -ERRNO.ENOMEM;
    });
  }
}

/** `sys`: the simulation, for the workload's main actor (itself a process named after the workload). */
export class System extends Process {
  /**
   * Start a process. Its body gets `p`; it exits, closing its files, when the body returns. It
   * runs on CPU `opts.cpu` (the per-CPU page lists it uses), by default pid % cpus.
   */
  spawn(comm: string, cred: Credentials, body: Actor, opts?: { cpu?: number }): number {
    expectString(comm, 'spawn expects a process name');
    if (cred === undefined)
      throw argError('spawn expects credentials { uid, capIpcLock, memlock }', cred);
    const { uid } = expectOptions(cred, 'spawn', {
      uid: 'number',
      capIpcLock: 'boolean',
      memlock: 'size',
    });
    if (uid !== undefined) expectId(uid, 'spawn: uid must be an integer from 0 to 2^32 - 1');
    expectFunction(body, 'spawn expects a generator function as its body');
    const { cpu } = expectOptions(opts, 'spawn', { cpu: 'number' });
    const { cpus } = this.sim.k;
    if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu >= cpus))
      throw argError(`spawn: cpu must be an integer from 0 to ${cpus - 1} (cpus: ${cpus})`, cpu);
    return this.sim.spawn(comm, cred, (t) => body(new Process(this.sim, t)), cpu).pid;
  }

  /** SIGKILL: closes every fd of the process (so its TEE shms are unpinned, C28). */
  kill(pid: number): boolean {
    expectId(pid, 'kill expects a pid from spawn or fork');
    return this.sim.kill(pid);
  }

  /** Wait for a process to exit. */
  wait(pid: number): JoinEffect {
    const proc = this.sim.procOf(pid);
    if (!proc) throw argError('wait expects a pid from spawn or fork', pid);
    return this.sim.engine.join(proc);
  }

  /** Record a result: it appears in every output. */
  record(key: string, value: unknown): void {
    expectString(key, 'record expects a key');
    // an own property even for '__proto__': every key a user names is a result
    Object.defineProperty(this.sim.results, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  /** A seeded random number in [0, 1) from the named stream. */
  random(stream = 'default'): number {
    expectString(stream, 'random expects a stream name');
    return this.sim.rng(stream).float();
  }

  /** Simulated time, ns. */
  now(): number {
    return this.sim.engine.now;
  }
}
