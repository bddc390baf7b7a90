// What a workload's actors hold: `p`, a process that makes system calls, and `sys`, the
// simulation (spawn, time, randomness, results). Every method that enters the kernel returns a
// Call to yield; it resumes with the value, or with an errno name such as 'ENOMEM'.

import { ERRNO, type Errno } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import { MCL_CURRENT, MCL_FUTURE } from '../kernel/mm/mlock.js';
import { FS_TYPES, type FsType } from '../kernel/mm/mmap.js';
import { SYSCALLS, type SysResult } from '../kernel/syscalls.js';
import type { Task } from '../kernel/task.js';
import type { Task as EngineTask, JoinEffect, Sleep } from '../sim/engine.js';
import { PAGE_SIZE, parseDuration, parseSize } from '../sim/units.js';
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
export type Actor = (p: Process) => EngineTask<unknown>;
export type Result<T> = T | Errno;

function argError(what: string, v: unknown): TypeError {
  return new TypeError(`${what}: got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
}

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
    return this.call(
      'mmap',
      (k, t) => SYSCALLS.mmap_anon(k, t, len, opts.locked ?? false),
      asBuf(len),
    );
  }

  /** mmap of a file: MAP_SHARED maps its page cache; MAP_PRIVATE copies on write. */
  mmapFile(
    fd: number,
    size: Size,
    opts: { shared?: boolean; write?: boolean; offset?: Size } = {},
  ): Call<Result<Buf>> {
    const len = parseSize(size, 'mapping size');
    const off = parseSize(opts.offset ?? 0, 'offset');
    const f = expectFd(fd, 'mmapFile');
    return this.call(
      'mmap',
      (k, t) => SYSCALLS.mmap_file(k, t, f, len, opts.shared ?? true, opts.write ?? true, off),
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
    return this.num('touch', (k, t) => SYSCALLS.touch(k, t, b.addr, b.len, opts.write ?? true));
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
    const flags = (opts.current ? MCL_CURRENT : 0) | (opts.future ? MCL_FUTURE : 0);
    return this.num('mlockall', (k, t) => SYSCALLS.mlockall(k, t, flags));
  }

  munlockall(): Call<Result<number>> {
    return this.num('munlockall', (k, t) => SYSCALLS.munlockall(k, t));
  }

  // ---- files -------------------------------------------------------------------------------

  /** open(): '/dev/tee0', '/dev/infiniband/uverbs0', '/dev/vfio/vfio', or a regular file. */
  open(path: string, opts: { fs?: FsType; size?: Size } = {}): Call<Result<number>> {
    if (typeof path !== 'string') throw argError('open expects a path', path);
    const fs = opts.fs ?? 'ext4';
    if (!FS_TYPES.includes(fs))
      throw argError(`open: fs must be one of ${FS_TYPES.join(', ')}`, fs);
    const size = parseSize(opts.size ?? 0, 'file size');
    return this.num('open', (k, t) => SYSCALLS.open(k, t, path, fs, size));
  }

  memfd(name: string, size: Size): Call<Result<number>> {
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
    const off = parseSize(opts.offset ?? 0, 'offset');
    return this.num('read', (k, t) => SYSCALLS.read(k, t, f, off, len));
  }

  /** Buffered write: dirties the page cache. */
  write(fd: number, size: Size, opts: { offset?: Size } = {}): Call<Result<number>> {
    const f = expectFd(fd, 'write');
    const len = parseSize(size, 'write size');
    const off = parseSize(opts.offset ?? 0, 'offset');
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
    return this.call(
      'tee_shm_register',
      (k, t) => SYSCALLS.tee_shm_register(k, t, c, b.addr, b.len, opts.flags ?? 0),
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
    const ids = shms.map((s) => (typeof s === 'number' ? s : s.id));
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
    const iovecs = bufs
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
    return this.num('rdma_reg_mr', (k, t) =>
      SYSCALLS.rdma_reg_mr(k, t, c, b.addr, b.len, opts.write ?? true),
    );
  }

  rdmaDeregMr(ctx: number, mr: number): Call<Result<number>> {
    const c = expectFd(ctx, 'rdmaDeregMr');
    return this.num('rdma_dereg_mr', (k, t) => SYSCALLS.rdma_dereg_mr(k, t, c, mr));
  }

  /** VFIO_IOMMU_MAP_DMA on a /dev/vfio/vfio fd: a mapping id. */
  vfioMapDma(fd: number, buf: Buf): Call<Result<number>> {
    const f = expectFd(fd, 'vfioMapDma');
    const b = expectBuf(buf, 'vfioMapDma');
    return this.num('vfio_map_dma', (k, t) => SYSCALLS.vfio_map_dma(k, t, f, b.addr, b.len));
  }

  vfioUnmapDma(fd: number, id: number): Call<Result<number>> {
    const f = expectFd(fd, 'vfioUnmapDma');
    return this.num('vfio_unmap_dma', (k, t) => SYSCALLS.vfio_unmap_dma(k, t, f, id));
  }

  /** O_DIRECT I/O on `buf` lasting `duration`: a short-term reference (FOLL_GET on 6.4, FOLL_PIN on 6.18). */
  directIo(buf: Buf, opts: { duration: Duration; read?: boolean }): Call<Result<number>> {
    const b = expectBuf(buf, 'directIo');
    const ns = parseDuration(opts.duration, 'I/O duration');
    return this.num('direct_io', (k, t) =>
      SYSCALLS.direct_io(k, t, b.addr, b.len, ns, opts.read ?? true),
    );
  }

  /** gup_test PIN_LONGTERM_TEST_START: a long-term pin held until gupUnpin(). */
  gupPin(buf: Buf, opts: { write?: boolean; fast?: boolean } = {}): Call<Result<number>> {
    const b = expectBuf(buf, 'gupPin');
    return this.num('gup_test_pin', (k, t) =>
      SYSCALLS.gup_test_pin(k, t, b.addr, b.len, opts.write ?? true, opts.fast ?? false),
    );
  }

  gupUnpin(): Call<Result<number>> {
    return this.num('gup_test_unpin', (k, t) => SYSCALLS.gup_test_unpin(k, t));
  }

  // ---- CMA clients -------------------------------------------------------------------------

  /** DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/<heap>: a dma-buf fd; close it to free. */
  dmaHeapAlloc(heap: string, size: Size): Call<Result<number>> {
    const len = parseSize(size, 'buffer size');
    return this.num('dma_heap_alloc', (k, t) => SYSCALLS.dma_heap_alloc(k, t, heap, len));
  }

  /** echo N > /sys/kernel/debug/cma/<area>/alloc (align 0). */
  cmaDebugfsAlloc(area: string, pages: number): Call<Result<number>> {
    return this.num('cma_debugfs_alloc', (k, t) =>
      SYSCALLS.cma_debugfs(k, t, area, 'alloc', pages),
    );
  }

  /** echo N > /sys/kernel/debug/cma/<area>/free. */
  cmaDebugfsFree(area: string, pages: number): Call<Result<number>> {
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
    return this.num('fork', () => {
      const child = this.sim.fork(this.task, comm, (t) => body(new Process(this.sim, t)));
      return child ? child.pid : -ERRNO.ENOMEM;
    });
  }
}

/** `sys`: the simulation, for the workload's main actor (itself a process named after the workload). */
export class System extends Process {
  /** Start a process. Its body gets `p`; it exits, closing its files, when the body returns. */
  spawn(comm: string, cred: Credentials, body: Actor): number {
    if (typeof body !== 'function')
      throw argError('spawn expects a generator function as its body', body);
    return this.sim.spawn(comm, cred, (t) => body(new Process(this.sim, t))).pid;
  }

  /** SIGKILL: closes every fd of the process (so its TEE shms are unpinned, C28). */
  kill(pid: number): boolean {
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
    this.sim.results[key] = value;
  }

  /** A seeded random number in [0, 1) from the named stream. */
  random(stream = 'default'): number {
    return this.sim.rng(stream).float();
  }

  /** Simulated time, ns. */
  now(): number {
    return this.sim.engine.now;
  }
}
