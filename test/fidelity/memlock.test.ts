// kernel-model.md §7 C17 and D: long-term pins of untouched memory, and RLIMIT_MEMLOCK accounting of
// io_uring (C18–C20), RDMA (C21), mlock (C23) and the hypothetical TEE policies (C24), with the
// counters of §4.3/§4.6. Platform P (§7.0): A is uid 1000 with an 8 MiB limit and no
// CAP_IPC_LOCK unless a step says otherwise. The §4.6 rules are the same in 6.4 and 6.18, so
// every case runs on both.
import { describe, expect } from 'vitest';
import { PG_MLOCKED } from '../../src/kernel/mm/page.js';
import type { System } from '../../src/workload/api.js';
import { B, dmesg, LOWEST_PFN } from '../helpers.js';
import {
  counters,
  delta,
  freeCma,
  inCma,
  ok,
  pfnsOf,
  pinsOn,
  touched,
  VERSION_PLACEMENTS,
  VERSIONS,
} from './actors.js';
import { it, type MachineFixture } from './fixture.js';

describe.each(VERSIONS)('C17 on %s: FOLL_LONGTERM on untouched memory', (version) => {
  it('io_uring faults 4096 pages outside CMA: no migration, one pin each', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000, memlock: '16MiB' }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16MiB')); // malloc'ed, never touched
      const ring = ok(yield* p.ioUringSetup());
      const before = counters(k);
      const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
      const d = delta(k, before);
      const pfns = pfnsOf(p.task, buf);
      const userLocked = p.task.user.lockedVm;
      const vmPinKb = p.task.mm.pinnedVm * 4;
      const freeCmaNow = freeCma(k);
      // nothing in CMA: a 200 MiB heap allocation takes window 0 without migrating
      const m = k.vm.pgmigrate_success;
      const heap = yield* p.dmaHeapAlloc('svp', '200MiB');
      const heapMigrated = k.vm.pgmigrate_success - m;
      return { rc, d, pfns, userLocked, vmPinKb, freeCma: freeCmaNow, heap, heapMigrated };
    });
    m.run();
    const rA = pA.result;
    expect(rA.rc).toBe(0);
    const pfns = rA.pfns;
    expect(pfns.filter((pfn) => pfn >= 0).length).toBe(4096);
    expect(pfns.some(inCma)).toBe(false); // PF_MEMALLOC_PIN: UNMOVABLE, non-CMA
    expect(rA.d).toMatchObject({
      pgmigrate_success: 0,
      nr_foll_pin_acquired: 4096, // once
      nr_foll_pin_released: 0,
    });
    expect(rA.userLocked).toBe(4096);
    expect(rA.vmPinKb).toBe(16384);
    expect(rA.freeCma).toBe(65536);
    expect(rA.heap).toBe(4); // ring fd 3, then the dma-buf
    expect(rA.heapMigrated).toBe(0);
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
  });

  it('contrast: upstream TEE registration faults the pages as MOVABLE, into CMA', ({ machine }) => {
    const m = machine({ version, policies: LOWEST_PFN });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000, memlock: 0 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16MiB'));
      const tee = ok(yield* p.open('/dev/tee0'));
      const before = counters(k);
      const shm = yield* p.teeShmRegister(tee, buf);
      const d = delta(k, before);
      const pfns = pfnsOf(p.task, buf);
      // offsets [0, 4096) are pinned: windows s = 0, 256, ..., 3840 fail (§2.3: floor(4095/256)+1)
      const heap = yield* p.dmaHeapAlloc('svp', '200MiB');
      const busy = k.trace.count('cma_alloc_busy_retry');
      return { shm, d, pfns, heap, busy };
    });
    m.run();
    const rA = pA.result;
    expect(rA.shm).toEqual({ fd: 4, id: 1 });
    const pfns = rA.pfns;
    expect(pfns.every(inCma)).toBe(true);
    expect(pfns[0]).toBe(B);
    expect(rA.d).toMatchObject({
      pgmigrate_success: 0,
      nr_foll_pin_acquired: 4096,
      nr_foll_pin_released: 0,
    });
    expect(rA.busy).toBe(16);
    expect(rA.heap).toBe(5);
    const finish = k.trace.named('cma_alloc_finish')[0]!;
    expect(finish.fields.page).toBe(B + 4096); // the first window clear of the pins
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C18 on %s, placement=%s: io_uring over the memlock limit',
  (version, placement) => {
    it('-ENOMEM after the pin has migrated the buffer out of CMA', ({ runAs }) => {
      const r = runAs(
        { version: version, policies: { placement } },
        { uid: 1000 },
        function* (p, k) {
          const buf = yield* touched(p, '16MiB');
          const before = pfnsOf(p.task, buf);
          const ring = ok(yield* p.ioUringSetup());
          const c = counters(k);
          const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
          const d = delta(k, c);
          const after = pfnsOf(p.task, buf);
          const userLocked = p.task.user.lockedVm;
          const vmPin = p.task.mm.pinnedVm;
          const pins = pinsOn(k, after);
          const migrateTrace = k.trace.named('mm_migrate_pages').map((r) => r.fields);
          return { before, rc, d, after, userLocked, vmPin, pins, migrateTrace };
        },
      );
      expect(r.before.every(inCma)).toBe(true);
      expect(r.rc).toBe('ENOMEM');
      expect(r.d).toMatchObject({
        pgmigrate_success: 4096,
        nr_foll_pin_acquired: 8192,
        nr_foll_pin_released: 8192, // 4096 before migrating, 4096 after the failed charge
      });
      expect(r.userLocked).toBe(0);
      expect(r.vmPin).toBe(0);
      const after = r.after;
      expect(after.filter((pfn) => pfn >= 0).length).toBe(4096);
      expect(after.some(inCma)).toBe(false); // the data stays outside CMA although it failed
      expect(r.pins.every((n) => n === 0)).toBe(true);
      expect(r.migrateTrace).toEqual([
        { nr_succeeded: 4096, nr_failed: 0, reason: 'longterm_pin' },
      ]);
    });
  },
);

describe.each(VERSIONS)('C19 on %s: io_uring with CAP_IPC_LOCK', (version) => {
  it('no per-user charge; VmPin 16384 kB until unregister', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000, capIpcLock: true }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      const ring = ok(yield* p.ioUringSetup());
      const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
      const userLocked = p.task.user.lockedVm;
      const vmPinKb = p.task.mm.pinnedVm * 4;
      const pfns = pfnsOf(p.task, buf);
      const pinned = pinsOn(k, pfns).filter((n) => n === 1).length;
      const unreg = yield* p.ioUringUnregisterBuffers(ring);
      const vmPinAfter = p.task.mm.pinnedVm;
      const pinnedAfter = pinsOn(k, pfns).filter((n) => n > 0).length;
      return { rc, userLocked, vmPinKb, pinned, unreg, vmPinAfter, pinnedAfter };
    });
    m.run();
    const rA = pA.result;
    expect(rA.rc).toBe(0);
    expect(rA.userLocked).toBe(0); // ctx->user == NULL
    expect(rA.vmPinKb).toBe(16384);
    expect(rA.pinned).toBe(4096);
    expect(rA.unreg).toBe(0);
    expect(rA.vmPinAfter).toBe(0);
    expect(rA.pinnedAfter).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C20 on %s, placement=%s: io_uring is charged per user',
  (version, placement) => {
    it.for(['unregister', 'close'] as const)('P1 %ss, then P2 succeeds', (how, { machine }) => {
      const m = machine({ version, policies: { placement } });
      const k = m.k;
      function* register(p: System, size: string) {
        const buf = ok(yield* p.mmapAnon(size));
        const ring = ok(yield* p.ioUringSetup());
        const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
        return { ring, rc, vmPinKb: p.task.mm.pinnedVm * 4, user: p.task.user.lockedVm };
      }
      const p1 = m.spawn('P1', { uid: 1000 }, function* (p) {
        const r = yield* register(p, '6MiB');
        yield p.sleep(3e9);
        if (how === 'unregister') ok(yield* p.ioUringUnregisterBuffers(r.ring));
        else ok(yield* p.close(r.ring));
        const releasedUser = p.task.user.lockedVm;
        yield p.sleep('10s');
        return { ...r, releasedUser };
      });
      const p2 = m.spawn('P2', { uid: 1000 }, function* (p) {
        yield p.sleep('1s');
        const buf = ok(yield* p.mmapAnon('4MiB'));
        const ring = ok(yield* p.ioUringSetup());
        const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
        const vmPin = p.task.mm.pinnedVm;
        yield p.sleep('3s'); // P1 has released
        const retry = yield* p.ioUringRegisterBuffers(ring, [buf]);
        const retryUser = p.task.user.lockedVm;
        yield p.sleep('10s');
        return { rc, vmPin, retry, retryUser };
      });
      const p3 = m.spawn('P3', { uid: 1001 }, function* (p) {
        yield p.sleep('2s');
        const r = yield* register(p, '6MiB');
        yield p.sleep('10s');
        return r;
      });
      m.run();
      expect(p1.result.rc).toBe(0);
      expect(p1.result.user).toBe(1536);
      expect(p1.result.vmPinKb).toBe(6144);
      expect(p2.result.rc).toBe('ENOMEM'); // 1536 + 1024 > 2048
      expect(p2.result.vmPin).toBe(0);
      expect(p3.result.rc).toBe(0); // a separate user_struct
      expect(p3.result.user).toBe(1536);
      expect(p1.result.releasedUser).toBe(0);
      expect(p2.result.retry).toBe(0);
      expect(p2.result.retryUser).toBe(1024);
      expect(k.users.get(1000)!.lockedVm).toBe(0);
      expect(k.users.get(1001)!.lockedVm).toBe(0);
    });
  },
);

describe.each(VERSIONS)('C21 on %s: RDMA charges per-mm pinned_vm before pinning', (version) => {
  it('steps 1–3 and 5', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const six = yield* touched(p, '6MiB');
      const four = yield* touched(p, '4MiB');
      const sixBefore = pfnsOf(p.task, six);
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      let c = counters(k);
      const mr1 = yield* p.rdmaRegMr(ctx, six);
      const d1 = delta(k, c);
      const pinned1 = p.task.mm.pinnedVm;
      const sixAfter = pfnsOf(p.task, six);
      c = counters(k);
      const mr2 = yield* p.rdmaRegMr(ctx, four);
      const d2 = delta(k, c);
      const pinned2 = p.task.mm.pinnedVm;
      const fourAfter = pfnsOf(p.task, four);
      yield p.sleep('10s');
      return { sixBefore, mr1, d1, pinned1, sixAfter, mr2, d2, pinned2, fourAfter };
    });
    const pA2 = m.spawn('A2', { uid: 1000 }, function* (p) {
      yield p.sleep('1s');
      const buf = yield* touched(p, '6MiB');
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const mr3 = yield* p.rdmaRegMr(ctx, buf);
      const pinned3 = p.task.mm.pinnedVm;
      return { mr3, pinned3 };
    });
    const pA5 = m.spawn('A5', { uid: 1000 }, function* (p) {
      yield p.sleep('2s');
      const a = yield* touched(p, '6MiB');
      const b = yield* touched(p, '6MiB');
      const mlock5 = yield* p.mlock(a);
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const mr5 = yield* p.rdmaRegMr(ctx, b);
      const locked5 = p.task.mm.lockedVm;
      const pinned5 = p.task.mm.pinnedVm;
      return { mlock5, mr5, locked5, pinned5 };
    });
    m.run();
    const rA = pA.result;
    const rA2 = pA2.result;
    const rA5 = pA5.result;
    expect(rA.sixBefore.every(inCma)).toBe(true);
    expect(rA.mr1).toBe(1);
    expect(rA.pinned1).toBe(1536);
    expect(rA.sixAfter.some(inCma)).toBe(false); // migrated out (FOLL_LONGTERM)
    expect(rA.d1).toMatchObject({ pgmigrate_success: 1536, nr_foll_pin_released: 1536 });
    expect(rA.mr2).toBe('ENOMEM'); // 1536 + 1024 > 2048
    expect(rA.d2).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 0 });
    expect(rA.pinned2).toBe(1536); // rolled back
    expect(rA.fourAfter.every(inCma)).toBe(true); // not migrated
    expect(rA2.mr3).toBe(1);
    expect(rA2.pinned3).toBe(1536);
    expect(rA5.mlock5).toBe(0);
    expect(rA5.mr5).toBe(1);
    expect(rA5.locked5).toBe(1536);
    expect(rA5.pinned5).toBe(1536);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('step 4: RLIMIT_MEMLOCK = 0 without the cap is -EPERM', ({ machine }) => {
    const m = machine({ version });
    const pA = m.spawn('A', { uid: 1000, memlock: 0 }, function* (p) {
      const buf = yield* touched(p, '1MiB');
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const mr = yield* p.rdmaRegMr(ctx, buf);
      const pinned = p.task.mm.pinnedVm;
      return { mr, pinned };
    });
    m.run();
    const rA = pA.result;
    expect(rA.mr).toBe('EPERM');
    expect(rA.pinned).toBe(0);
    expect(m.k.vm.nr_foll_pin_acquired).toBe(0);
  });
});

describe.each(VERSION_PLACEMENTS)(
  'C23 on %s, placement=%s: mlock semantics',
  (version, placement) => {
    it('(a) over the limit: -ENOMEM, VmLck unchanged; (b) with CAP_IPC_LOCK: 0', ({ machine }) => {
      const m = machine({ version, policies: { placement } });
      const pA = m.spawn('A', { uid: 1000 }, function* (p) {
        const buf = ok(yield* p.mmapAnon('10MiB'));
        const a = yield* p.mlock(buf);
        const aLck = p.task.mm.lockedVm;
        return { a, aLck };
      });
      const pB = m.spawn('B', { uid: 1000, capIpcLock: true }, function* (p) {
        const buf = ok(yield* p.mmapAnon('10MiB'));
        const b = yield* p.mlock(buf);
        const bLck = p.task.mm.lockedVm;
        return { b, bLck };
      });
      m.run();
      const rA = pA.result;
      const rB = pB.result;
      expect(rA.a).toBe('ENOMEM');
      expect(rA.aLck).toBe(0);
      expect(rB.b).toBe(0);
      expect(rB.bLck).toBe(2560);
    });

    it('(c) RLIMIT_MEMLOCK = 0 without the cap: -EPERM', ({ machine }) => {
      const m = machine({ version, policies: { placement } });
      const pA = m.spawn('A', { uid: 1000, memlock: 0 }, function* (p) {
        const buf = ok(yield* p.mmapAnon('4KiB'));
        const c = yield* p.mlock(buf);
        const all = yield* p.mlockall({ current: true });
        return { c, all };
      });
      m.run();
      const rA = pA.result;
      expect(rA.c).toBe('EPERM');
      expect(rA.all).toBe('EPERM');
    });

    it('(d) mlockall(MCL_CURRENT) compares total_vm, not the resident size', ({ runAs }) => {
      const r = runAs({ version: version, policies: { placement } }, { uid: 1000 }, function* (p) {
        const small = ok(yield* p.mmapAnon('6MiB'));
        ok(yield* p.touch(small));
        const big = ok(yield* p.mmapAnon('4MiB')); // untouched: total_vm 2560 > 2048, RSS 1536
        const d = yield* p.mlockall({ current: true });
        const lck = p.task.mm.lockedVm;
        ok(yield* p.munmap(big));
        const control = yield* p.mlockall({ current: true }); // total_vm 1536
        const lckAfter = p.task.mm.lockedVm;
        return { d, lck, control, lckAfter };
      });
      expect(r.d).toBe('ENOMEM');
      expect(r.lck).toBe(0);
      expect(r.control).toBe(0);
      expect(r.lckAfter).toBe(1536);
    });

    it('mmap(MAP_LOCKED) and mlockall(MCL_FUTURE) mappings: do_mmap’s mlock_future_ok', ({
      runAs,
    }) => {
      // §4.6 lists these with mlock; do_mmap() reports the refusal as -EAGAIN, not -ENOMEM
      const r = runAs({ version: version, policies: { placement } }, { uid: 1000 }, function* (p) {
        const over = yield* p.mmapAnon('10MiB', { locked: true });
        const six = ok(yield* p.mmapAnon('6MiB', { locked: true }));
        const lck = p.task.mm.lockedVm;
        const rss = p.task.mm.rss(); // populated
        ok(yield* p.munmap(six));
        const future = yield* p.mlockall({ future: true });
        const fd = ok(yield* p.open('/data/f', { fs: 'ext4', size: '8MiB' }));
        const file = ok(yield* p.mmapFile(fd, '2MiB', { shared: true }));
        const anon = ok(yield* p.mmapAnon('6MiB')); // 512 + 1536 = 2048: at the limit
        const futureLck = p.task.mm.lockedVm;
        const futureRss = p.task.mm.rss(); // mm_populate() of both
        const anonOver = yield* p.mmapAnon('4KiB');
        const fileOver = yield* p.mmapFile(fd, '4KiB', { shared: true, offset: '2MiB' });
        ok(yield* p.munmap(file));
        ok(yield* p.munmap(anon));
        const endLck = p.task.mm.lockedVm;
        return { over, lck, rss, future, futureLck, futureRss, anonOver, fileOver, endLck };
      });
      expect(r.over).toBe('EAGAIN');
      expect(r.lck).toBe(1536);
      expect(r.rss).toBe(1536);
      expect(r.future).toBe(0);
      expect(r.futureLck).toBe(2048);
      expect(r.futureRss).toBe(2048);
      expect(r.anonOver).toBe('EAGAIN');
      expect(r.fileOver).toBe('EAGAIN');
      expect(r.endLck).toBe(0);
    });

    it('(e) re-locking a locked range is not double-counted; (f) cma_alloc migrates it', ({
      runAs,
    }) => {
      const r = runAs({ version: version, policies: LOWEST_PFN }, { uid: 1000 }, function* (p, k) {
        const buf = yield* touched(p, '6MiB');
        const first = yield* p.mlock(buf);
        const second = yield* p.mlock(buf); // 1536 + 1536 > 2048, minus the 1536 already locked
        const lck = p.task.mm.lockedVm;
        const before = pfnsOf(p.task, buf);
        const m = counters(k);
        const heap = yield* p.dmaHeapAlloc('svp', '200MiB');
        const d = delta(k, m);
        const after = pfnsOf(p.task, buf);
        const lckAfter = p.task.mm.lockedVm;
        const mlocked = after.filter((pfn) => k.alloc.pages.flags[pfn]! & PG_MLOCKED).length;
        return { first, second, lck, before, heap, d, after, lckAfter, mlocked };
      });
      const { k } = r;
      expect(r.first).toBe(0);
      expect(r.second).toBe(0);
      expect(r.lck).toBe(1536);
      expect(r.before.every(inCma)).toBe(true);
      expect(r.heap).toBe(3);
      expect(r.d).toMatchObject({ cma_alloc_success: 1, pgmigrate_success: 1536 });
      expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
      expect(r.after.some(inCma)).toBe(false);
      expect(r.lckAfter).toBe(1536); // VmLck unchanged
      expect(r.mlocked).toBe(1536); // the new pages remain mlocked
    });
  },
);

describe.each(VERSIONS)('§4.6 VFIO type1 on %s: mm->locked_vm, shared with mlock', (version) => {
  it('pin then check: -ENOMEM over the limit after mlock, a page counted twice, cap bypass', ({
    machine,
  }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const locked = yield* touched(p, '4MiB');
      ok(yield* p.mlock(locked));
      const more = yield* touched(p, '6MiB');
      const vfio = ok(yield* p.open('/dev/vfio/vfio'));
      const c = counters(k);
      const over = yield* p.vfioMapDma(vfio, more); // 1024 + 1536 > 2048
      const overD = delta(k, c);
      const overLck = p.task.mm.lockedVm;
      const overPins = pinsOn(k, pfnsOf(p.task, more)).filter((n) => n > 0).length;
      // the mlocked buffer itself: mlock and VFIO count its pages twice (1024 + 1024 = 2048)
      const twice = yield* p.vfioMapDma(vfio, locked);
      const twiceLck = p.task.mm.lockedVm;
      const twicePfns = pfnsOf(p.task, locked);
      ok(yield* p.vfioUnmapDma(vfio, ok(twice)));
      const unmapLck = p.task.mm.lockedVm;
      return { over, overD, overLck, overPins, twice, twiceLck, twicePfns, unmapLck };
    });
    const pB = m.spawn('B', { uid: 1000, capIpcLock: true }, function* (p) {
      yield p.sleep('1s');
      const buf = yield* touched(p, '16MiB');
      const vfio = ok(yield* p.open('/dev/vfio/vfio'));
      const cap = yield* p.vfioMapDma(vfio, buf); // dma->lock_cap: no limit, still charged
      const capLck = p.task.mm.lockedVm;
      ok(yield* p.close(vfio));
      const capClose = p.task.mm.lockedVm;
      return { cap, capLck, capClose };
    });
    m.run();
    const rA = pA.result;
    const rB = pB.result;
    expect(rA.over).toBe('ENOMEM');
    expect(rA.overLck).toBe(1024);
    expect(rA.overPins).toBe(0); // the batch pinned before the check is released
    expect(rA.overD.nr_foll_pin_acquired).toBeGreaterThan(0);
    expect(rA.twice).toBe(1);
    expect(rA.twiceLck).toBe(2048);
    expect(rA.twicePfns.some(inCma)).toBe(false); // FOLL_LONGTERM moved them
    expect(rA.unmapLck).toBe(1024);
    expect(rB.cap).toBe(1);
    expect(rB.capLck).toBe(4096);
    expect(rB.capClose).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
    expect(k.failures.filter((f) => f.op === 'vfio_map_dma').map((f) => f.errno)).toEqual([
      'ENOMEM',
    ]);
    expect(dmesg(k)).toEqual(['vfio_pin_pages_remote: RLIMIT_MEMLOCK (8388608) exceeded']);
  });
});

/** A registers `size` of touched anon memory (in CMA) with the TEE; records what moved. */
function teeRegisterCase(
  machine: MachineFixture,
  version: (typeof VERSIONS)[number],
  accounting: 'none' | 'io_uring' | 'rdma' | 'vfio',
  cred: { memlock?: string | number; capIpcLock?: boolean },
  size = '64MiB',
) {
  const m = machine({ version, policies: { teePin: 'v2-longterm', teeAccounting: accounting } });
  const k = m.k;
  const a = m.spawn('A', { uid: 1000, ...cred }, function* (p) {
    const buf = yield* touched(p, size);
    const tee = ok(yield* p.open('/dev/tee0'));
    const c = counters(k);
    const rc = yield* p.teeShmRegister(tee, buf);
    const registered = {
      rc,
      d: delta(k, c),
      pfns: pfnsOf(p.task, buf),
      user: p.task.user.lockedVm,
      vmPinKb: p.task.mm.pinnedVm * 4,
      vmLck: p.task.mm.lockedVm,
    };
    if (typeof rc === 'string') return { ...registered, munmap: undefined, close: undefined };
    ok(yield* p.munmap(buf));
    const munmap = {
      user: p.task.user.lockedVm,
      vmPinKb: p.task.mm.pinnedVm * 4,
      vmLck: p.task.mm.lockedVm,
    };
    ok(yield* p.close(rc));
    const close = {
      user: p.task.user.lockedVm,
      vmPin: p.task.mm.pinnedVm,
      vmLck: p.task.mm.lockedVm,
    };
    return { ...registered, munmap, close };
  });
  m.run();
  return { k, out: a.result };
}

describe.each(VERSIONS)('C24 on %s: hypothetical TEE accounting (v2 patch)', (version) => {
  it('io_uring-style, 8 MiB limit: -ENOMEM after the pin and the migration', ({ machine }) => {
    const { out } = teeRegisterCase(machine, version, 'io_uring', {});
    expect(out.rc).toBe('ENOMEM');
    expect(out.d).toMatchObject({
      pgmigrate_success: 16384,
      nr_foll_pin_acquired: 32768,
      nr_foll_pin_released: 32768,
    });
    expect(out.pfns.some(inCma)).toBe(false);
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(0);
  });

  it('io_uring-style, 64 MiB limit: charged until the last close, not munmap', ({ machine }) => {
    const { k, out } = teeRegisterCase(machine, version, 'io_uring', { memlock: '64MiB' });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(16384);
    expect(out.vmPinKb).toBe(65536);
    expect(out.munmap?.user).toBe(16384);
    expect(out.munmap?.vmPinKb).toBe(65536);
    expect(out.close?.user).toBe(0);
    expect(out.close?.vmPin).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('io_uring-style with CAP_IPC_LOCK: only VmPin', ({ machine }) => {
    const { out } = teeRegisterCase(machine, version, 'io_uring', { capIpcLock: true });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(65536);
    expect(out.close?.vmPin).toBe(0);
  });

  it('RDMA-style: -ENOMEM before any pin or migration; -EPERM at limit 0', ({ machine }) => {
    const { out } = teeRegisterCase(machine, version, 'rdma', {});
    expect(out.rc).toBe('ENOMEM');
    expect(out.d).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 0 });
    expect(out.pfns.every(inCma)).toBe(true);
    expect(out.vmPinKb).toBe(0);
    const zero = teeRegisterCase(machine, version, 'rdma', { memlock: 0 });
    expect(zero.out.rc).toBe('EPERM');
    expect(zero.out.d).toMatchObject({ nr_foll_pin_acquired: 0 });
  });

  it('RDMA-style within the limit: pinned_vm until the last close', ({ machine }) => {
    const { out } = teeRegisterCase(machine, version, 'rdma', { memlock: '64MiB' });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.vmPinKb).toBe(65536);
    expect(out.user).toBe(0);
    expect(out.munmap?.vmPinKb).toBe(65536);
    expect(out.close?.vmPin).toBe(0);
  });

  it('VFIO-style: mm->locked_vm, shared with mlock (§6 item 8c)', ({ machine }) => {
    const m = machine({ version, policies: { teePin: 'v2-longterm', teeAccounting: 'vfio' } });
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const locked = yield* touched(p, '6MiB');
      ok(yield* p.mlock(locked));
      const fourMiB = yield* touched(p, '4MiB');
      const twoMiB = yield* touched(p, '2MiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      const four = yield* p.teeShmRegister(tee, fourMiB); // 1536 + 1024 > 2048
      const two = yield* p.teeShmRegister(tee, twoMiB); // 1536 + 512 = 2048
      const lck = p.task.mm.lockedVm;
      const pin = p.task.mm.pinnedVm;
      ok(yield* p.munmap(twoMiB));
      const lckMunmap = p.task.mm.lockedVm;
      ok(yield* p.close(ok(two)));
      const lckClose = p.task.mm.lockedVm;
      return { four, two, lck, pin, lckMunmap, lckClose };
    });
    m.run();
    const rA = pA.result;
    expect(rA.four).toBe('ENOMEM');
    expect(rA.two).toEqual({ fd: 4, id: 1 });
    expect(rA.lck).toBe(2048);
    expect(rA.pin).toBe(0);
    expect(rA.lckMunmap).toBe(2048);
    expect(rA.lckClose).toBe(1536);
  });

  it('none (upstream): no accounting, even with RLIMIT_MEMLOCK = 0', ({ machine }) => {
    const { out } = teeRegisterCase(machine, version, 'none', { memlock: 0 });
    expect(out.rc).toEqual({ fd: 4, id: 1 });
    expect(out.user).toBe(0);
    expect(out.vmPinKb).toBe(0);
    expect(out.vmLck).toBe(0);
  });
});
