// kernel-model.md §5.1–§5.3 and §7.E, §7.G: the TEE shm life cycle — munmap does not unpin (C27), exit and
// inherited fds (C28), TEE_IOC_SHM_ALLOC (C29), registration errors (C30), and the 6.18
// protected heap's dynamic pool (C31). Upstream TEE (FOLL_PIN|FOLL_WRITE, no accounting).
import { describe, expect } from 'vitest';
import { ERRNO } from '../../src/kernel/config.js';
import { TEE_SHM_USER_MAPPED, teeDevice } from '../../src/kernel/drivers/tee/tee_shm.js';
import { VM_READ, VM_WRITE } from '../../src/kernel/mm/mmap.js';
import { NO_OWNER, PageKind } from '../../src/kernel/mm/page.js';
import { ObjKind } from '../../src/kernel/mm/rmap.js';
import { PAGE_SIZE } from '../../src/sim/units.js';
import { Buf, type Result, type System } from '../../src/workload/api.js';
import { B, LOWEST_PFN, machineP } from '../helpers.js';
import {
  counters,
  delta,
  freeCma,
  inCma,
  ok,
  pfnsOf,
  pinsOn,
  touched,
  VERSIONS,
} from './actors.js';
import { type Body, it, type MachineFixture } from './fixture.js';

describe.each(VERSIONS)('C27 on %s: munmap does not unpin', (version) => {
  it('the pages stay pinned and block CMA until the fd is closed', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '64MiB');
      const pfns = pfnsOf(p.task, buf);
      const allInCma = pfns.every(inCma);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const rss = p.task.mm.rss();
      const fc = freeCma(k);
      ok(yield* p.munmap(buf));
      const rssDrop = rss - p.task.mm.rss();
      const freeCmaDelta = freeCma(k) - fc; // the memory is not freed
      const pages = k.alloc.pages;
      const state = {
        kind: new Set(pfns.map((pfn) => pages.kind[pfn])),
        mapcount: new Set(pfns.map((pfn) => pages.mapcount[pfn])),
        refcount: new Set(pfns.map((pfn) => pages.refcount(pfn))),
        owner: new Set(pfns.map((pfn) => k.rmap.ownerId(pfn))),
      };
      let c = counters(k);
      const heap1 = yield* p.dmaHeapAlloc('svp', '200MiB');
      const d1 = delta(k, c);
      const busy = k.trace.count('cma_alloc_busy_retry');
      const blocker = k.failures.find((f) => f.op === 'cma_alloc')?.blocker;
      c = counters(k);
      ok(yield* p.close(shm));
      const closeD = delta(k, c);
      const freeCmaAfterClose = freeCma(k); // freed straight to the CMA free lists
      c = counters(k);
      const heap2 = yield* p.dmaHeapAlloc('svp', '200MiB');
      const d2 = delta(k, c);
      const heap2Pfn = k.trace.named('cma_alloc_finish')[1]?.fields.page;
      return {
        inCma: allInCma,
        rssDrop,
        freeCmaDelta,
        state,
        heap1,
        d1,
        busy,
        blocker,
        closeD,
        freeCmaAfterClose,
        heap2,
        d2,
        heap2Pfn,
      };
    });
    expect(r.inCma).toBe(true);
    expect(r.rssDrop).toBe(16384);
    expect(r.freeCmaDelta).toBe(0);
    expect(r.state).toEqual({
      kind: new Set([PageKind.ANON]),
      mapcount: new Set([0]),
      refcount: new Set([1024]),
      owner: new Set([NO_OWNER]),
    });
    expect(r.heap1).toBe('ENOMEM');
    expect(r.busy).toBe(57); // as C7: every window holds pinned pages
    expect(r.d1).toMatchObject({ cma_alloc_fail: 1, pgmigrate_success: 0 });
    expect(r.blocker).toMatchObject({ comm: 'A', via: 'tee_shm', id: 1 });
    expect(r.closeD).toMatchObject({ nr_foll_pin_released: 16384 });
    expect(r.freeCmaAfterClose).toBe(65536);
    expect(r.heap2).toBe(4);
    expect(r.d2).toMatchObject({ cma_alloc_success: 1, pgmigrate_success: 0 });
    expect(r.heap2Pfn).toBe(B);
  });
});

describe.each(VERSIONS)('C28 on %s: process exit', (version) => {
  it('killing A closes its fds: the pages are unpinned', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    let pfns: number[] = []; // A is killed: what it saw is shared, not returned
    const a = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      ok(yield* p.teeShmRegister(tee, buf));
      yield p.sleep('1h');
    });
    const killer = m.spawn('killer', { uid: 0 }, function* (p) {
      yield p.sleep('1s');
      const pinnedBefore = pinsOn(k, pfns).filter((n) => n === 1).length;
      p.kill(a.task.pid);
      const pinnedAfter = pinsOn(k, pfns).filter((n) => n > 0).length;
      return { pinnedBefore, pinnedAfter, shms: teeDevice(k).shms.size };
    });
    m.run();
    const r = killer.result;
    expect(r.pinnedBefore).toBe(4096);
    expect(r.pinnedAfter).toBe(0);
    expect(r.shms).toBe(0);
    expect(a.task.state).toBe('exited');
    expect(k.vm.nr_foll_pin_released).toBe(4096);
    expect(freeCma(k)).toBe(65536);
  });

  it('killed inside an invoke: it dies when the call returns, then the pages are unpinned', ({
    machine,
  }) => {
    const m = machine({ version });
    const k = m.k;
    let pfns: number[] = [];
    let invoke: Result<number> | undefined;
    let after: string | undefined;
    const a = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      invoke = yield* p.teeInvoke(tee, [shm], '1s'); // tee_shm_get_from_id holds the shm
      after = 'survived';
    });
    const killer = m.spawn('killer', { uid: 0 }, function* (p) {
      yield p.sleep('500ms');
      p.kill(a.task.pid);
      const stateAtKill = a.task.state; // fatal_signal_pending(): dies when the call returns
      const pinnedAtKill = pinsOn(k, pfns).filter((n) => n === 1).length;
      yield p.sleep('1s');
      const stateLater = a.task.state;
      const pinnedLater = pinsOn(k, pfns).filter((n) => n > 0).length;
      return {
        stateAtKill,
        pinnedAtKill,
        stateLater,
        pinnedLater,
        shmsLater: teeDevice(k).shms.size,
      };
    });
    m.run();
    const r = killer.result;
    expect(r.stateAtKill).toBe('running');
    expect(r.pinnedAtKill).toBe(4096);
    expect(invoke).toBeUndefined(); // user space never sees the call return
    expect(after).toBeUndefined();
    expect(r.stateLater).toBe('exited');
    expect(r.pinnedLater).toBe(0);
    expect(r.shmsLater).toBe(0);
  });

  it('an fd inherited by a child keeps the pins until the child closes it', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    let pfns: number[] = [];
    let child: Result<number> | undefined;
    const a = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      child = yield* p.fork('child', function* (c) {
        yield c.sleep('5s');
        ok(yield* c.close(shm));
        yield c.sleep('5s');
      });
      yield p.sleep('1h');
    });
    const killer = m.spawn('killer', { uid: 0 }, function* (p) {
      yield p.sleep('1s');
      p.kill(a.task.pid);
      const afterKill = pinsOn(k, pfns).filter((n) => n === 1).length;
      const holder = [...k.pins.all()].map((h) => h.pid);
      yield p.sleep('10s'); // the child closed its copy at 5 s
      const afterChildClose = pinsOn(k, pfns).filter((n) => n > 0).length;
      return { afterKill, holder, afterChildClose };
    });
    m.run();
    const r = killer.result;
    expect(typeof child).toBe('number');
    expect(r.afterKill).toBe(4096); // A is dead, its pages live on, pinned and unowned
    expect(r.holder).toEqual([a.task.pid]);
    expect(r.afterChildClose).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('a dup()ed fd: the last close unpins', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '1MiB');
      const pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const dup = ok(yield* p.dup(shm));
      ok(yield* p.close(shm));
      const afterFirst = pinsOn(k, pfns).filter((n) => n === 1).length;
      ok(yield* p.close(dup));
      const afterLast = pinsOn(k, pfns).filter((n) => n > 0).length;
      return { afterFirst, afterLast };
    });
    expect(r.afterFirst).toBe(256);
    expect(r.afterLast).toBe(0);
  });
});

describe.each(VERSIONS)('C29 on %s: TEE_IOC_SHM_ALLOC limits', (version) => {
  it('8 MiB: -ENOMEM; 4 MiB and 1 MiB from non-CMA unmovable memory; mmap works', ({ machine }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000, memlock: 0 }, function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      const eight = yield* p.teeShmAlloc(tee, '8MiB');
      const four = ok(yield* p.teeShmAlloc(tee, '4MiB'));
      const one = ok(yield* p.teeShmAlloc(tee, '1MiB'));
      const pfns = [four, one].flatMap((shm) => teeDevice(k).shms.get(shm.id)!.pfns);
      const pages = pfns.length;
      const anyCma = pfns.some(inCma);
      const kinds = new Set(pfns.map((pfn) => k.alloc.pages.kind[pfn]));
      const contiguous = teeDevice(k)
        .shms.get(four.id)!
        .pfns.every((pfn, i, a) => pfn === a[0]! + i);
      const freeCmaNow = freeCma(k);
      const acct = [p.task.mm.lockedVm, p.task.mm.pinnedVm, p.task.user.lockedVm];
      const pins = k.vm.nr_foll_pin_acquired;
      const mmap = yield* p.mmapShm(one);
      return { eight, pages, anyCma, kinds, contiguous, freeCma: freeCmaNow, acct, pins, mmap };
    });
    m.run();
    const rA = pA.result;
    expect(rA.eight).toBe('ENOMEM');
    expect(rA.pages).toBe(1024 + 256);
    expect(rA.anyCma).toBe(false);
    expect(rA.kinds).toEqual(new Set([PageKind.KERNEL]));
    expect(rA.contiguous).toBe(true);
    expect(rA.freeCma).toBe(65536);
    expect(rA.acct).toEqual([0, 0, 0]);
    expect(rA.pins).toBe(0);
    expect(typeof ok(rA.mmap).addr).toBe('number');
    expect(teeDevice(k).shms.size).toBe(0); // freed at exit
  });

  it('4 MiB needs a free order-10 non-CMA block (Fn = 1000: -ENOMEM, as C2)', ({ machine }) => {
    const m = machine({ version, fn: 1000 });
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      const four = yield* p.teeShmAlloc(tee, '4MiB');
      const one = yield* p.teeShmAlloc(tee, '1MiB');
      return { four, one };
    });
    m.run();
    const rA = pA.result;
    expect(rA.four).toBe('ENOMEM');
    expect(rA.one).toEqual({ fd: 4, id: 1 });
  });

  it('mmap of a registered (USER_MAPPED) shm fd: -EINVAL', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '64KiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const mmap = yield* p.mmapShm(shm);
      return { mmap };
    });
    expect(r.mmap).toBe('EINVAL');
  });
});

describe.each(VERSIONS)('C30 on %s: TEE_IOC_SHM_REGISTER argument errors', (version) => {
  /** Register in a fresh simulation; `setup` makes the buffer. */
  function register(
    machine: MachineFixture,
    setup: Body<Buf>,
    opts: { flags?: number; tee?: { registerOps?: boolean; dynamicShm?: boolean } } = {},
  ) {
    const m = machine({ version, machine: { ...machineP(), tee: opts.tee } });
    const k = m.k;
    const a = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* setup(p, k);
      const tee = ok(yield* p.open('/dev/tee0'));
      const rc = yield* p.teeShmRegister(tee, buf, { flags: opts.flags ?? 0 });
      if (typeof rc !== 'string') return rc;
      // a failed registration leaves nothing pinned and no shm behind
      expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
      expect([...teeDevice(k).shms.values()].filter((x) => x.flags & TEE_SHM_USER_MAPPED)).toEqual(
        [],
      );
      expect(k.pins.all().next().done).toBe(true);
      return rc;
    });
    m.run();
    return a.result;
  }
  const anon = (size: string) =>
    function* (p: System) {
      return yield* touched(p, size);
    };

  it('flags = 1: -EINVAL', ({ machine }) => {
    expect(register(machine, anon('1MiB'), { flags: 1 })).toBe('EINVAL');
  });

  it('a range not mapped at all: -EFAULT', ({ machine }) => {
    expect(
      register(machine, function* () {
        yield* [];
        return new Buf(0x10000000, 1 << 20);
      }),
    ).toBe('EFAULT');
  });

  it.for([true, false])(
    'first half mapped, then a hole: -ENOMEM (touched: %s)',
    (t, { machine }) => {
      expect(
        register(machine, function* (p) {
          const buf = ok(yield* p.mmapAnon('2MiB'));
          if (t) ok(yield* p.touch(buf));
          ok(yield* p.munmap(new Buf(buf.addr + (1 << 20), 1 << 20)));
          return buf;
        }),
      ).toBe('ENOMEM');
    },
  );

  it('a VM_PFNMAP/VM_IO mapping (an mmap of a TEE pool shm): -EFAULT', ({ machine }) => {
    expect(
      register(machine, function* (p) {
        const tee = ok(yield* p.open('/dev/tee0'));
        const pool = ok(yield* p.teeShmAlloc(tee, '64KiB'));
        return ok(yield* p.mmapShm(pool));
      }),
    ).toBe('EFAULT');
  });

  it('a page-backed VMA with a write-combined memory type: -EINVAL (optee_check_mem_type)', ({
    machine,
  }) => {
    expect(
      register(machine, function* (p, k) {
        // no system call of the model makes a write-combined user mapping: insert the VMA
        const obj = k.rmap.create(ObjKind.ANON, 16, `anon:${p.pid}`);
        const v = p.task.mm.insert(16, VM_READ | VM_WRITE, obj, 0, undefined, 'writecombine');
        const buf = new Buf(v.start * PAGE_SIZE, 16 * PAGE_SIZE);
        ok(yield* p.touch(buf));
        return buf;
      }),
    ).toBe('EINVAL');
  });

  it('the secure world rejects (no dynamic shm): -EINVAL', ({ machine }) => {
    expect(register(machine, anon('1MiB'), { tee: { dynamicShm: false } })).toBe('EINVAL');
  });

  it('a driver without shm_register ops: -ENOTSUPP (524)', ({ machine }) => {
    expect(ERRNO.ENOTSUPP).toBe(524);
    expect(register(machine, anon('1MiB'), { tee: { registerOps: false } })).toBe('ENOTSUPP');
  });
});

describe('C31 (6.18): the TEE protected heap’s dynamic pool backed by CMA', () => {
  const heapMachine = (poolSize: string) => ({
    ...machineP(),
    heaps: [
      { name: 'svp', type: 'cma' as const, area: 'svp' },
      { name: 'protected,secure-video', type: 'tee-protected' as const, area: 'svp', poolSize },
    ],
  });

  it('one cma_alloc(16384, align 8) for the whole pool; release with the last buffer', ({
    machine,
  }) => {
    const m = machine({ version: '6.18', machine: heapMachine('64MiB') });
    const k = m.k;
    const svp = k.cma[0]!;
    const pPlayer = m.spawn('player', { uid: 1000 }, function* (p) {
      const first = ok(yield* p.dmaHeapAlloc('protected,secure-video', '12MiB'));
      const start = k.trace.named('cma_alloc_start').map((r) => k.trace.body(r));
      const availAfterFirst = svp.availableCount;
      const more: number[] = [];
      for (const size of ['12MiB', '12MiB', '12MiB', '16MiB']) {
        more.push(ok(yield* p.dmaHeapAlloc('protected,secure-video', size)));
      }
      const cmaCalls = k.vm.cma_alloc_success + k.vm.cma_alloc_fail;
      for (const fd of more) ok(yield* p.close(fd));
      const releasedBeforeLast = svp.releasePagesSuccess;
      ok(yield* p.close(first));
      const releasedAfterLast = svp.releasePagesSuccess;
      const availAfterLast = svp.availableCount;
      return {
        start,
        availAfterFirst,
        cmaCalls,
        releasedBeforeLast,
        releasedAfterLast,
        availAfterLast,
      };
    });
    m.run();
    const rPlayer = pPlayer.result;
    expect(rPlayer.start).toEqual([
      'name=svp request_count=16384 available_count=65536 total_count=65536 align=8',
    ]);
    expect(rPlayer.availAfterFirst).toBe(65536 - 16384);
    expect(rPlayer.cmaCalls).toBe(1); // 64 MiB in five buffers, one cma_alloc
    expect(rPlayer.releasedBeforeLast).toBe(0);
    expect(rPlayer.releasedAfterLast).toBe(16384);
    expect(rPlayer.availAfterLast).toBe(65536);
  });

  /** A registers its 64 MiB (the C7 pins), then asks the protected heap for 12 MiB. */
  function pinnedThenPool(machine: MachineFixture, poolSize: string) {
    const m = machine({ version: '6.18', machine: heapMachine(poolSize), policies: LOWEST_PFN });
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '64MiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      ok(yield* p.teeShmRegister(tee, buf));
      const rc = yield* p.dmaHeapAlloc('protected,secure-video', '12MiB');
      return { rc };
    });
    m.run();
    return { k: m.k, rc: pA.result.rc };
  }

  it('with the C7 pins at offsets [0, 16384), a 64 MiB pool still fits above them', ({
    machine,
  }) => {
    const { k, rc } = pinnedThenPool(machine, '64MiB');
    expect(rc).toBe(5);
    // windows s = 0, 256, ..., 16128 hold pinned pages (§2.3: floor(16383/256) + 1 = 64)
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(64);
    expect(k.trace.named('cma_alloc_finish')[0]!.fields.page).toBe(B + 16384);
  });

  it('if the pool’s cma_alloc fails (the C7 pins), the ioctl returns -ENOMEM', ({ machine }) => {
    // a pool the C7 pins block in every window: 200 MiB (min_size comes from the platform)
    const { k, rc } = pinnedThenPool(machine, '200MiB');
    expect(rc).toBe('ENOMEM');
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(k.cma[0]!.allocPagesFail).toBe(51200);
  });
});
