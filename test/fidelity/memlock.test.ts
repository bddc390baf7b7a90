// kernel-model.md §7 C17 and D: long-term pins of untouched memory, and RLIMIT_MEMLOCK accounting of
// io_uring (C18–C20), RDMA (C21), mlock (C23) and the hypothetical TEE policies (C24), with the
// counters of §4.3/§4.6. Platform P (§7.0): A is uid 1000 with an 8 MiB limit and no
// CAP_IPC_LOCK unless a step says otherwise. The §4.6 rules are the same in 6.4 and 6.18, so
// every case runs on both.
import { describe, expect, it } from 'vitest';
import { PG_MLOCKED } from '../../src/kernel/mm/page.js';
import type { Buf, Shm } from '../../src/workload/api.js';
import { B, dmesg, LOWEST_PFN } from '../helpers.js';
import {
  actor,
  type Counters,
  counters,
  delta,
  freeCma,
  inCma,
  ok,
  pfnsOf,
  pinsOn,
  processA,
  simP,
  touched,
  VERSION_PLACEMENTS,
  VERSIONS,
} from './actors.js';

describe.each(VERSIONS)('C17 on %s: FOLL_LONGTERM on untouched memory', (version) => {
  it('io_uring faults 4096 pages outside CMA: no migration, one pin each', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000, memlock: '16MiB' }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16MiB')); // malloc'ed, never touched
      const ring = ok(yield* p.ioUringSetup());
      const before = counters(k);
      out.rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
      out.d = delta(k, before);
      out.pfns = pfnsOf(p.task, buf);
      out.userLocked = p.task.user.lockedVm;
      out.vmPinKb = p.task.mm.pinnedVm * 4;
      out.freeCma = freeCma(k);
      // nothing in CMA: a 200 MiB heap allocation takes window 0 without migrating
      const m = k.vm.pgmigrate_success;
      out.heap = yield* p.dmaHeapAlloc('svp', '200MiB');
      out.heapMigrated = k.vm.pgmigrate_success - m;
    });
    s.run();
    expect(out.rc).toBe(0);
    const pfns = out.pfns as number[];
    expect(pfns.filter((pfn) => pfn >= 0).length).toBe(4096);
    expect(pfns.some(inCma)).toBe(false); // PF_MEMALLOC_PIN: UNMOVABLE, non-CMA
    expect(out.d).toMatchObject({
      pgmigrate_success: 0,
      nr_foll_pin_acquired: 4096, // once
      nr_foll_pin_released: 0,
    });
    expect(out.userLocked).toBe(4096);
    expect(out.vmPinKb).toBe(16384);
    expect(out.freeCma).toBe(65536);
    expect(out.heap).toBe(4); // ring fd 3, then the dma-buf
    expect(out.heapMigrated).toBe(0);
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
  });

  it('contrast: upstream TEE registration faults the pages as MOVABLE, into CMA', () => {
    const s = simP({ version, policies: LOWEST_PFN });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000, memlock: 0 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16MiB'));
      const tee = ok(yield* p.open('/dev/tee0'));
      const before = counters(k);
      out.shm = yield* p.teeShmRegister(tee, buf);
      out.d = delta(k, before);
      out.pfns = pfnsOf(p.task, buf);
      // offsets [0, 4096) are pinned: windows s = 0, 256, ..., 3840 fail (§2.3: floor(4095/256)+1)
      out.heap = yield* p.dmaHeapAlloc('svp', '200MiB');
      out.busy = k.trace.count('cma_alloc_busy_retry');
    });
    s.run();
    expect(out.shm).toEqual({ fd: 4, id: 1 });
    const pfns = out.pfns as number[];
    expect(pfns.every(inCma)).toBe(true);
    expect(pfns[0]).toBe(B);
    expect(out.d).toMatchObject({
      pgmigrate_success: 0,
      nr_foll_pin_acquired: 4096,
      nr_foll_pin_released: 0,
    });
    expect(out.busy).toBe(16);
    expect(out.heap).toBe(5);
    const finish = k.trace.named('cma_alloc_finish')[0]!;
    expect(finish.fields.page).toBe(B + 4096); // the first window clear of the pins
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C18 on %s, placement=%s: io_uring over the memlock limit',
  (version, placement) => {
    it('-ENOMEM after the pin has migrated the buffer out of CMA', () => {
      const { k, out, run } = processA(version, { placement });
      run(function* (p) {
        const buf = yield* touched(p, '16MiB');
        out.before = pfnsOf(p.task, buf);
        const ring = ok(yield* p.ioUringSetup());
        const c = counters(k);
        out.rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
        out.d = delta(k, c);
        out.after = pfnsOf(p.task, buf);
        out.userLocked = p.task.user.lockedVm;
        out.vmPin = p.task.mm.pinnedVm;
        out.pins = pinsOn(k, out.after as number[]);
        out.migrateTrace = k.trace.named('mm_migrate_pages').map((r) => r.fields);
      });
      expect((out.before as number[]).every(inCma)).toBe(true);
      expect(out.rc).toBe('ENOMEM');
      expect(out.d).toMatchObject({
        pgmigrate_success: 4096,
        nr_foll_pin_acquired: 8192,
        nr_foll_pin_released: 8192, // 4096 before migrating, 4096 after the failed charge
      });
      expect(out.userLocked).toBe(0);
      expect(out.vmPin).toBe(0);
      const after = out.after as number[];
      expect(after.filter((pfn) => pfn >= 0).length).toBe(4096);
      expect(after.some(inCma)).toBe(false); // the data stays outside CMA although it failed
      expect((out.pins as number[]).every((n) => n === 0)).toBe(true);
      expect(out.migrateTrace).toEqual([
        { nr_succeeded: 4096, nr_failed: 0, reason: 'longterm_pin' },
      ]);
    });
  },
);

describe.each(VERSIONS)('C19 on %s: io_uring with CAP_IPC_LOCK', (version) => {
  it('no per-user charge; VmPin 16384 kB until unregister', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000, capIpcLock: true }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      const ring = ok(yield* p.ioUringSetup());
      out.rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
      out.userLocked = p.task.user.lockedVm;
      out.vmPinKb = p.task.mm.pinnedVm * 4;
      const pfns = pfnsOf(p.task, buf);
      out.pinned = pinsOn(k, pfns).filter((n) => n === 1).length;
      out.unreg = yield* p.ioUringUnregisterBuffers(ring);
      out.vmPinAfter = p.task.mm.pinnedVm;
      out.pinnedAfter = pinsOn(k, pfns).filter((n) => n > 0).length;
    });
    s.run();
    expect(out.rc).toBe(0);
    expect(out.userLocked).toBe(0); // ctx->user == NULL
    expect(out.vmPinKb).toBe(16384);
    expect(out.pinned).toBe(4096);
    expect(out.unreg).toBe(0);
    expect(out.vmPinAfter).toBe(0);
    expect(out.pinnedAfter).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C20 on %s, placement=%s: io_uring is charged per user',
  (version, placement) => {
    it.each(['unregister', 'close'] as const)('P1 %ss, then P2 succeeds', (how) => {
      const s = simP({ version, policies: { placement } });
      const k = s.k;
      const out: Record<string, unknown> = {};
      const register = (size: string, key: string, release?: number) =>
        function* (p: import('../../src/workload/api.js').System) {
          const buf = ok(yield* p.mmapAnon(size));
          const ring = ok(yield* p.ioUringSetup());
          out[key] = yield* p.ioUringRegisterBuffers(ring, [buf]);
          out[`${key}.vmPinKb`] = p.task.mm.pinnedVm * 4;
          out[`${key}.user`] = p.task.user.lockedVm;
          if (release === undefined) return;
          yield p.sleep(release);
          if (how === 'unregister') ok(yield* p.ioUringUnregisterBuffers(ring));
          else ok(yield* p.close(ring));
          out[`${key}.released.user`] = p.task.user.lockedVm;
          yield p.sleep('10s');
        };
      actor(s, 'P1', { uid: 1000 }, register('6MiB', 'p1', 3e9));
      actor(s, 'P2', { uid: 1000 }, function* (p) {
        yield p.sleep('1s');
        const buf = ok(yield* p.mmapAnon('4MiB'));
        const ring = ok(yield* p.ioUringSetup());
        out.p2 = yield* p.ioUringRegisterBuffers(ring, [buf]);
        out['p2.vmPin'] = p.task.mm.pinnedVm;
        yield p.sleep('3s'); // P1 has released
        out.p2retry = yield* p.ioUringRegisterBuffers(ring, [buf]);
        out['p2retry.user'] = p.task.user.lockedVm;
        yield p.sleep('10s');
      });
      actor(s, 'P3', { uid: 1001 }, function* (p) {
        yield p.sleep('2s');
        yield* register('6MiB', 'p3')(p);
        yield p.sleep('10s');
      });
      s.run();
      expect(out.p1).toBe(0);
      expect(out['p1.user']).toBe(1536);
      expect(out['p1.vmPinKb']).toBe(6144);
      expect(out.p2).toBe('ENOMEM'); // 1536 + 1024 > 2048
      expect(out['p2.vmPin']).toBe(0);
      expect(out.p3).toBe(0); // a separate user_struct
      expect(out['p3.user']).toBe(1536);
      expect(out['p1.released.user']).toBe(0);
      expect(out.p2retry).toBe(0);
      expect(out['p2retry.user']).toBe(1024);
      expect(k.users.get(1000)!.lockedVm).toBe(0);
      expect(k.users.get(1001)!.lockedVm).toBe(0);
    });
  },
);

describe.each(VERSIONS)('C21 on %s: RDMA charges per-mm pinned_vm before pinning', (version) => {
  it('steps 1–3 and 5', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const six = yield* touched(p, '6MiB');
      const four = yield* touched(p, '4MiB');
      out.sixBefore = pfnsOf(p.task, six);
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      let c = counters(k);
      out.mr1 = yield* p.rdmaRegMr(ctx, six);
      out.d1 = delta(k, c);
      out.pinned1 = p.task.mm.pinnedVm;
      out.sixAfter = pfnsOf(p.task, six);
      c = counters(k);
      out.mr2 = yield* p.rdmaRegMr(ctx, four);
      out.d2 = delta(k, c);
      out.pinned2 = p.task.mm.pinnedVm;
      out.fourAfter = pfnsOf(p.task, four);
      yield p.sleep('10s');
    });
    actor(s, 'A2', { uid: 1000 }, function* (p) {
      yield p.sleep('1s');
      const buf = yield* touched(p, '6MiB');
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      out.mr3 = yield* p.rdmaRegMr(ctx, buf);
      out.pinned3 = p.task.mm.pinnedVm;
    });
    actor(s, 'A5', { uid: 1000 }, function* (p) {
      yield p.sleep('2s');
      const a = yield* touched(p, '6MiB');
      const b = yield* touched(p, '6MiB');
      out.mlock5 = yield* p.mlock(a);
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      out.mr5 = yield* p.rdmaRegMr(ctx, b);
      out.locked5 = p.task.mm.lockedVm;
      out.pinned5 = p.task.mm.pinnedVm;
    });
    s.run();
    expect((out.sixBefore as number[]).every(inCma)).toBe(true);
    expect(out.mr1).toBe(1);
    expect(out.pinned1).toBe(1536);
    expect((out.sixAfter as number[]).some(inCma)).toBe(false); // migrated out (FOLL_LONGTERM)
    expect(out.d1).toMatchObject({ pgmigrate_success: 1536, nr_foll_pin_released: 1536 });
    expect(out.mr2).toBe('ENOMEM'); // 1536 + 1024 > 2048
    expect(out.d2).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 0 });
    expect(out.pinned2).toBe(1536); // rolled back
    expect((out.fourAfter as number[]).every(inCma)).toBe(true); // not migrated
    expect(out.mr3).toBe(1);
    expect(out.pinned3).toBe(1536);
    expect(out.mlock5).toBe(0);
    expect(out.mr5).toBe(1);
    expect(out.locked5).toBe(1536);
    expect(out.pinned5).toBe(1536);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('step 4: RLIMIT_MEMLOCK = 0 without the cap is -EPERM', () => {
    const s = simP({ version });
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000, memlock: 0 }, function* (p) {
      const buf = yield* touched(p, '1MiB');
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      out.mr = yield* p.rdmaRegMr(ctx, buf);
      out.pinned = p.task.mm.pinnedVm;
    });
    s.run();
    expect(out.mr).toBe('EPERM');
    expect(out.pinned).toBe(0);
    expect(s.k.vm.nr_foll_pin_acquired).toBe(0);
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C23 on %s, placement=%s: mlock semantics',
  (version, placement) => {
    it('(a) over the limit: -ENOMEM, VmLck unchanged; (b) with CAP_IPC_LOCK: 0', () => {
      const s = simP({ version, policies: { placement } });
      const out: Record<string, unknown> = {};
      actor(s, 'A', { uid: 1000 }, function* (p) {
        const buf = ok(yield* p.mmapAnon('10MiB'));
        out.a = yield* p.mlock(buf);
        out.aLck = p.task.mm.lockedVm;
      });
      actor(s, 'B', { uid: 1000, capIpcLock: true }, function* (p) {
        const buf = ok(yield* p.mmapAnon('10MiB'));
        out.b = yield* p.mlock(buf);
        out.bLck = p.task.mm.lockedVm;
      });
      s.run();
      expect(out.a).toBe('ENOMEM');
      expect(out.aLck).toBe(0);
      expect(out.b).toBe(0);
      expect(out.bLck).toBe(2560);
    });

    it('(c) RLIMIT_MEMLOCK = 0 without the cap: -EPERM', () => {
      const s = simP({ version, policies: { placement } });
      const out: Record<string, unknown> = {};
      actor(s, 'A', { uid: 1000, memlock: 0 }, function* (p) {
        const buf = ok(yield* p.mmapAnon('4KiB'));
        out.c = yield* p.mlock(buf);
        out.all = yield* p.mlockall({ current: true });
      });
      s.run();
      expect(out.c).toBe('EPERM');
      expect(out.all).toBe('EPERM');
    });

    it('(d) mlockall(MCL_CURRENT) compares total_vm, not the resident size', () => {
      const { out, run } = processA(version, { placement });
      run(function* (p) {
        const small = ok(yield* p.mmapAnon('6MiB'));
        ok(yield* p.touch(small));
        const big = ok(yield* p.mmapAnon('4MiB')); // untouched: total_vm 2560 > 2048, RSS 1536
        out.d = yield* p.mlockall({ current: true });
        out.lck = p.task.mm.lockedVm;
        ok(yield* p.munmap(big));
        out.control = yield* p.mlockall({ current: true }); // total_vm 1536
        out.lckAfter = p.task.mm.lockedVm;
      });
      expect(out.d).toBe('ENOMEM');
      expect(out.lck).toBe(0);
      expect(out.control).toBe(0);
      expect(out.lckAfter).toBe(1536);
    });

    it('mmap(MAP_LOCKED) and mlockall(MCL_FUTURE) mappings: do_mmap’s mlock_future_ok', () => {
      // §4.6 lists these with mlock; do_mmap() reports the refusal as -EAGAIN, not -ENOMEM
      const { out, run } = processA(version, { placement });
      run(function* (p) {
        out.over = yield* p.mmapAnon('10MiB', { locked: true });
        const six = ok(yield* p.mmapAnon('6MiB', { locked: true }));
        out.lck = p.task.mm.lockedVm;
        out.rss = p.task.mm.rss(); // populated
        ok(yield* p.munmap(six));
        out.future = yield* p.mlockall({ future: true });
        const fd = ok(yield* p.open('/data/f', { fs: 'ext4', size: '8MiB' }));
        const file = ok(yield* p.mmapFile(fd, '2MiB', { shared: true }));
        const anon = ok(yield* p.mmapAnon('6MiB')); // 512 + 1536 = 2048: at the limit
        out.futureLck = p.task.mm.lockedVm;
        out.futureRss = p.task.mm.rss(); // mm_populate() of both
        out.anonOver = yield* p.mmapAnon('4KiB');
        out.fileOver = yield* p.mmapFile(fd, '4KiB', { shared: true, offset: '2MiB' });
        ok(yield* p.munmap(file));
        ok(yield* p.munmap(anon));
        out.endLck = p.task.mm.lockedVm;
      });
      expect(out.over).toBe('EAGAIN');
      expect(out.lck).toBe(1536);
      expect(out.rss).toBe(1536);
      expect(out.future).toBe(0);
      expect(out.futureLck).toBe(2048);
      expect(out.futureRss).toBe(2048);
      expect(out.anonOver).toBe('EAGAIN');
      expect(out.fileOver).toBe('EAGAIN');
      expect(out.endLck).toBe(0);
    });

    it('(e) re-locking a locked range is not double-counted; (f) cma_alloc migrates it', () => {
      const { k, out, run } = processA(version, LOWEST_PFN);
      run(function* (p) {
        const buf = yield* touched(p, '6MiB');
        out.first = yield* p.mlock(buf);
        out.second = yield* p.mlock(buf); // 1536 + 1536 > 2048, minus the 1536 already locked
        out.lck = p.task.mm.lockedVm;
        out.before = pfnsOf(p.task, buf);
        const m = counters(k);
        out.heap = yield* p.dmaHeapAlloc('svp', '200MiB');
        out.d = delta(k, m);
        out.after = pfnsOf(p.task, buf);
        out.lckAfter = p.task.mm.lockedVm;
        out.mlocked = (out.after as number[]).filter(
          (pfn) => k.alloc.pages.flags[pfn]! & PG_MLOCKED,
        ).length;
      });
      expect(out.first).toBe(0);
      expect(out.second).toBe(0);
      expect(out.lck).toBe(1536);
      expect((out.before as number[]).every(inCma)).toBe(true);
      expect(out.heap).toBe(3);
      expect(out.d).toMatchObject({ cma_alloc_success: 1, pgmigrate_success: 1536 });
      expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
      expect((out.after as number[]).some(inCma)).toBe(false);
      expect(out.lckAfter).toBe(1536); // VmLck unchanged
      expect(out.mlocked).toBe(1536); // the new pages remain mlocked
    });
  },
);

describe.each(VERSIONS)('§4.6 VFIO type1 on %s: mm->locked_vm, shared with mlock', (version) => {
  it('pin then check: -ENOMEM over the limit after mlock, a page counted twice, cap bypass', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const locked = yield* touched(p, '4MiB');
      ok(yield* p.mlock(locked));
      const more = yield* touched(p, '6MiB');
      const vfio = ok(yield* p.open('/dev/vfio/vfio'));
      const c = counters(k);
      out.over = yield* p.vfioMapDma(vfio, more); // 1024 + 1536 > 2048
      out.overD = delta(k, c);
      out.overLck = p.task.mm.lockedVm;
      out.overPins = pinsOn(k, pfnsOf(p.task, more)).filter((n) => n > 0).length;
      // the mlocked buffer itself: mlock and VFIO count its pages twice (1024 + 1024 = 2048)
      out.twice = yield* p.vfioMapDma(vfio, locked);
      out.twiceLck = p.task.mm.lockedVm;
      out.twicePfns = pfnsOf(p.task, locked);
      ok(yield* p.vfioUnmapDma(vfio, out.twice as number));
      out.unmapLck = p.task.mm.lockedVm;
    });
    actor(s, 'B', { uid: 1000, capIpcLock: true }, function* (p) {
      yield p.sleep('1s');
      const buf = yield* touched(p, '16MiB');
      const vfio = ok(yield* p.open('/dev/vfio/vfio'));
      out.cap = yield* p.vfioMapDma(vfio, buf); // dma->lock_cap: no limit, still charged
      out.capLck = p.task.mm.lockedVm;
      ok(yield* p.close(vfio));
      out.capClose = p.task.mm.lockedVm;
    });
    s.run();
    expect(out.over).toBe('ENOMEM');
    expect(out.overLck).toBe(1024);
    expect(out.overPins).toBe(0); // the batch pinned before the check is released
    expect((out.overD as Record<string, number>).nr_foll_pin_acquired).toBeGreaterThan(0);
    expect(out.twice).toBe(1);
    expect(out.twiceLck).toBe(2048);
    expect((out.twicePfns as number[]).some(inCma)).toBe(false); // FOLL_LONGTERM moved them
    expect(out.unmapLck).toBe(1024);
    expect(out.cap).toBe(1);
    expect(out.capLck).toBe(4096);
    expect(out.capClose).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
    expect(k.failures.filter((f) => f.op === 'vfio_map_dma').map((f) => f.errno)).toEqual([
      'ENOMEM',
    ]);
    expect(dmesg(k)).toEqual(['vfio_pin_pages_remote: RLIMIT_MEMLOCK (8388608) exceeded']);
  });
});

/** A registers `size` of touched anon memory (in CMA) with the TEE; records what moved. */
function teeRegisterCase(
  version: (typeof VERSIONS)[number],
  accounting: 'none' | 'io_uring' | 'rdma' | 'vfio',
  cred: { memlock?: string | number; capIpcLock?: boolean },
  size = '64MiB',
) {
  const s = simP({ version, policies: { teePin: 'v2-longterm', teeAccounting: accounting } });
  const k = s.k;
  const out: Record<string, unknown> & { d?: Record<keyof Counters, number> } = {};
  actor(s, 'A', { uid: 1000, ...cred }, function* (p) {
    const buf: Buf = yield* touched(p, size);
    const tee = ok(yield* p.open('/dev/tee0'));
    const c = counters(k);
    out.rc = yield* p.teeShmRegister(tee, buf);
    out.d = delta(k, c);
    out.pfns = pfnsOf(p.task, buf);
    out.user = p.task.user.lockedVm;
    out.vmPinKb = p.task.mm.pinnedVm * 4;
    out.vmLck = p.task.mm.lockedVm;
    if (typeof out.rc === 'string') return;
    ok(yield* p.munmap(buf));
    out.munmapUser = p.task.user.lockedVm;
    out.munmapVmPinKb = p.task.mm.pinnedVm * 4;
    out.munmapVmLck = p.task.mm.lockedVm;
    ok(yield* p.close(out.rc as Shm));
    out.closeUser = p.task.user.lockedVm;
    out.closeVmPin = p.task.mm.pinnedVm;
    out.closeVmLck = p.task.mm.lockedVm;
  });
  s.run();
  return { k, out };
}

describe.each(VERSIONS)('C24 on %s: hypothetical TEE accounting (v2 patch)', (version) => {
  it('io_uring-style, 8 MiB limit: -ENOMEM after the pin and the migration', () => {
    const { out } = teeRegisterCase(version, 'io_uring', {});
    expect(out.rc).toBe('ENOMEM');
    expect(out.d).toMatchObject({
      pgmigrate_success: 16384,
      nr_foll_pin_acquired: 32768,
      nr_foll_pin_released: 32768,
    });
    expect((out.pfns as number[]).some(inCma)).toBe(false);
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(0);
  });

  it('io_uring-style, 64 MiB limit: charged until the last close, not munmap', () => {
    const { k, out } = teeRegisterCase(version, 'io_uring', { memlock: '64MiB' });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(16384);
    expect(out.vmPinKb).toBe(65536);
    expect(out.munmapUser).toBe(16384);
    expect(out.munmapVmPinKb).toBe(65536);
    expect(out.closeUser).toBe(0);
    expect(out.closeVmPin).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('io_uring-style with CAP_IPC_LOCK: only VmPin', () => {
    const { out } = teeRegisterCase(version, 'io_uring', { capIpcLock: true });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(65536);
    expect(out.closeVmPin).toBe(0);
  });

  it('RDMA-style: -ENOMEM before any pin or migration; -EPERM at limit 0', () => {
    const { out } = teeRegisterCase(version, 'rdma', {});
    expect(out.rc).toBe('ENOMEM');
    expect(out.d).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 0 });
    expect((out.pfns as number[]).every(inCma)).toBe(true);
    expect(out.vmPinKb).toBe(0);
    const zero = teeRegisterCase(version, 'rdma', { memlock: 0 });
    expect(zero.out.rc).toBe('EPERM');
    expect(zero.out.d).toMatchObject({ nr_foll_pin_acquired: 0 });
  });

  it('RDMA-style within the limit: pinned_vm until the last close', () => {
    const { out } = teeRegisterCase(version, 'rdma', { memlock: '64MiB' });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.vmPinKb).toBe(65536);
    expect(out.user).toBe(0);
    expect(out.munmapVmPinKb).toBe(65536);
    expect(out.closeVmPin).toBe(0);
  });

  it('VFIO-style: mm->locked_vm, shared with mlock (§6 item 8c)', () => {
    const s = simP({ version, policies: { teePin: 'v2-longterm', teeAccounting: 'vfio' } });
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const locked = yield* touched(p, '6MiB');
      ok(yield* p.mlock(locked));
      const four = yield* touched(p, '4MiB');
      const two = yield* touched(p, '2MiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      out.four = yield* p.teeShmRegister(tee, four); // 1536 + 1024 > 2048
      out.two = yield* p.teeShmRegister(tee, two); // 1536 + 512 = 2048
      out.lck = p.task.mm.lockedVm;
      out.pin = p.task.mm.pinnedVm;
      ok(yield* p.munmap(two));
      out.lckMunmap = p.task.mm.lockedVm;
      ok(yield* p.close(out.two as Shm));
      out.lckClose = p.task.mm.lockedVm;
    });
    s.run();
    expect(out.four).toBe('ENOMEM');
    expect(out.two).toEqual({ fd: 4, id: 1 });
    expect(out.lck).toBe(2048);
    expect(out.pin).toBe(0);
    expect(out.lckMunmap).toBe(2048);
    expect(out.lckClose).toBe(1536);
  });

  it('none (upstream): no accounting, even with RLIMIT_MEMLOCK = 0', () => {
    const { out } = teeRegisterCase(version, 'none', { memlock: 0 });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(0);
    expect(out.vmLck).toBe(0);
  });
});
