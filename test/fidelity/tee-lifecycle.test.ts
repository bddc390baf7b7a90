// kernel-model.md §5.1–§5.3 and §7.E, §7.G: the TEE shm life cycle — munmap does not unpin (C27), exit and
// inherited fds (C28), TEE_IOC_SHM_ALLOC (C29), registration errors (C30), and the 6.18
// protected heap's dynamic pool (C31). Upstream TEE (FOLL_PIN|FOLL_WRITE, no accounting).
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/kernel/config.js';
import { TEE_SHM_USER_MAPPED, teeDevice } from '../../src/kernel/drivers/tee/tee_shm.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { VM_READ, VM_WRITE } from '../../src/kernel/mm/mmap.js';
import { NO_OWNER, PageKind } from '../../src/kernel/mm/page.js';
import { ObjKind } from '../../src/kernel/mm/rmap.js';
import { PAGE_SIZE } from '../../src/sim/units.js';
import { Buf, type Shm, type System } from '../../src/workload/api.js';
import { B, LOWEST_PFN, machineP } from '../helpers.js';
import {
  actor,
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
  VERSIONS,
} from './actors.js';

describe.each(VERSIONS)('C27 on %s: munmap does not unpin', (version) => {
  it('the pages stay pinned and block CMA until the fd is closed', () => {
    const { k, out, run } = processA(version);
    run(function* (p) {
      const buf = yield* touched(p, '64MiB');
      const pfns = pfnsOf(p.task, buf);
      out.inCma = pfns.every(inCma);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const rss = p.task.mm.rss();
      const fc = freeCma(k);
      ok(yield* p.munmap(buf));
      out.rssDrop = rss - p.task.mm.rss();
      out.freeCmaDelta = freeCma(k) - fc; // the memory is not freed
      const pages = k.alloc.pages;
      out.state = {
        kind: new Set(pfns.map((pfn) => pages.kind[pfn])),
        mapcount: new Set(pfns.map((pfn) => pages.mapcount[pfn])),
        refcount: new Set(pfns.map((pfn) => pages.refcount(pfn))),
        owner: new Set(pfns.map((pfn) => k.rmap.ownerId(pfn))),
      };
      let c = counters(k);
      out.heap1 = yield* p.dmaHeapAlloc('svp', '200MiB');
      out.d1 = delta(k, c);
      out.busy = k.trace.count('cma_alloc_busy_retry');
      out.blocker = k.failures.find((f) => f.op === 'cma_alloc')?.blocker;
      c = counters(k);
      ok(yield* p.close(shm));
      out.closeD = delta(k, c);
      out.freeCmaAfterClose = freeCma(k); // freed straight to the CMA free lists
      c = counters(k);
      out.heap2 = yield* p.dmaHeapAlloc('svp', '200MiB');
      out.d2 = delta(k, c);
      out.heap2Pfn = k.trace.named('cma_alloc_finish')[1]?.fields.page;
    });
    expect(out.inCma).toBe(true);
    expect(out.rssDrop).toBe(16384);
    expect(out.freeCmaDelta).toBe(0);
    expect(out.state).toEqual({
      kind: new Set([PageKind.ANON]),
      mapcount: new Set([0]),
      refcount: new Set([1024]),
      owner: new Set([NO_OWNER]),
    });
    expect(out.heap1).toBe('ENOMEM');
    expect(out.busy).toBe(57); // as C7: every window holds pinned pages
    expect(out.d1).toMatchObject({ cma_alloc_fail: 1, pgmigrate_success: 0 });
    expect(out.blocker).toMatchObject({ comm: 'A', via: 'tee_shm', id: 1 });
    expect(out.closeD).toMatchObject({ nr_foll_pin_released: 16384 });
    expect(out.freeCmaAfterClose).toBe(65536);
    expect(out.heap2).toBe(4);
    expect(out.d2).toMatchObject({ cma_alloc_success: 1, pgmigrate_success: 0 });
    expect(out.heap2Pfn).toBe(B);
  });
});

describe.each(VERSIONS)('C28 on %s: process exit', (version) => {
  it('killing A closes its fds: the pages are unpinned', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    const a = actor(s, 'A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      out.pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      ok(yield* p.teeShmRegister(tee, buf));
      yield p.sleep('1h');
    });
    actor(s, 'killer', { uid: 0 }, function* (p) {
      yield p.sleep('1s');
      out.pinnedBefore = pinsOn(k, out.pfns as number[]).filter((n) => n === 1).length;
      p.kill(a.pid);
      out.pinnedAfter = pinsOn(k, out.pfns as number[]).filter((n) => n > 0).length;
      out.shms = teeDevice(k).shms.size;
    });
    s.run();
    expect(out.pinnedBefore).toBe(4096);
    expect(out.pinnedAfter).toBe(0);
    expect(out.shms).toBe(0);
    expect(a.state).toBe('exited');
    expect(k.vm.nr_foll_pin_released).toBe(4096);
    expect(freeCma(k)).toBe(65536);
  });

  it('killed inside an invoke: it dies when the call returns, then the pages are unpinned', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    const a = actor(s, 'A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      out.pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      out.invoke = yield* p.teeInvoke(tee, [shm], '1s'); // tee_shm_get_from_id holds the shm
      out.after = 'survived';
    });
    actor(s, 'killer', { uid: 0 }, function* (p) {
      yield p.sleep('500ms');
      p.kill(a.pid);
      out.stateAtKill = a.state; // fatal_signal_pending(): dies when the call returns
      out.pinnedAtKill = pinsOn(k, out.pfns as number[]).filter((n) => n === 1).length;
      yield p.sleep('1s');
      out.stateLater = a.state;
      out.pinnedLater = pinsOn(k, out.pfns as number[]).filter((n) => n > 0).length;
      out.shmsLater = teeDevice(k).shms.size;
    });
    s.run();
    expect(out.stateAtKill).toBe('running');
    expect(out.pinnedAtKill).toBe(4096);
    expect(out.invoke).toBeUndefined(); // user space never sees the call return
    expect(out.after).toBeUndefined();
    expect(out.stateLater).toBe('exited');
    expect(out.pinnedLater).toBe(0);
    expect(out.shmsLater).toBe(0);
  });

  it('an fd inherited by a child keeps the pins until the child closes it', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    let shm: Shm | undefined;
    const a = actor(s, 'A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16MiB');
      out.pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      shm = ok(yield* p.teeShmRegister(tee, buf));
      out.child = yield* p.fork('child', function* (c) {
        yield c.sleep('5s');
        ok(yield* c.close(shm!));
        out.closedAt = c.task.pid;
        yield c.sleep('5s');
      });
      yield p.sleep('1h');
    });
    actor(s, 'killer', { uid: 0 }, function* (p) {
      yield p.sleep('1s');
      p.kill(a.pid);
      out.afterKill = pinsOn(k, out.pfns as number[]).filter((n) => n === 1).length;
      out.holder = [...k.pins.all()].map((h) => h.pid);
      yield p.sleep('10s'); // the child closed its copy at 5 s
      out.afterChildClose = pinsOn(k, out.pfns as number[]).filter((n) => n > 0).length;
    });
    s.run();
    expect(typeof out.child).toBe('number');
    expect(out.afterKill).toBe(4096); // A is dead, its pages live on, pinned and unowned
    expect(out.holder).toEqual([a.pid]);
    expect(out.afterChildClose).toBe(0);
    expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  });

  it('a dup()ed fd: the last close unpins', () => {
    const { k, out, run } = processA(version);
    run(function* (p) {
      const buf = yield* touched(p, '1MiB');
      const pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const dup = ok(yield* p.dup(shm));
      ok(yield* p.close(shm));
      out.afterFirst = pinsOn(k, pfns).filter((n) => n === 1).length;
      ok(yield* p.close(dup));
      out.afterLast = pinsOn(k, pfns).filter((n) => n > 0).length;
    });
    expect(out.afterFirst).toBe(256);
    expect(out.afterLast).toBe(0);
  });
});

describe.each(VERSIONS)('C29 on %s: TEE_IOC_SHM_ALLOC limits', (version) => {
  it('8 MiB: -ENOMEM; 4 MiB and 1 MiB from non-CMA unmovable memory; mmap works', () => {
    const s = simP({ version });
    const k = s.k;
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000, memlock: 0 }, function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      out.eight = yield* p.teeShmAlloc(tee, '8MiB');
      const four = ok(yield* p.teeShmAlloc(tee, '4MiB'));
      const one = ok(yield* p.teeShmAlloc(tee, '1MiB'));
      const pfns = [four, one].flatMap((shm) => teeDevice(k).shms.get(shm.id)!.pfns);
      out.pages = pfns.length;
      out.anyCma = pfns.some(inCma);
      out.kinds = new Set(pfns.map((pfn) => k.alloc.pages.kind[pfn]));
      out.contiguous = teeDevice(k)
        .shms.get(four.id)!
        .pfns.every((pfn, i, a) => pfn === a[0]! + i);
      out.freeCma = freeCma(k);
      out.acct = [p.task.mm.lockedVm, p.task.mm.pinnedVm, p.task.user.lockedVm];
      out.pins = k.vm.nr_foll_pin_acquired;
      out.mmap = yield* p.mmapShm(one);
    });
    s.run();
    expect(out.eight).toBe('ENOMEM');
    expect(out.pages).toBe(1024 + 256);
    expect(out.anyCma).toBe(false);
    expect(out.kinds).toEqual(new Set([PageKind.KERNEL]));
    expect(out.contiguous).toBe(true);
    expect(out.freeCma).toBe(65536);
    expect(out.acct).toEqual([0, 0, 0]);
    expect(out.pins).toBe(0);
    expect(typeof (out.mmap as Buf).addr).toBe('number');
    expect(teeDevice(s.k).shms.size).toBe(0); // freed at exit
  });

  it('4 MiB needs a free order-10 non-CMA block (Fn = 1000: -ENOMEM, as C2)', () => {
    const s = simP({ version, fn: 1000 });
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      out.four = yield* p.teeShmAlloc(tee, '4MiB');
      out.one = yield* p.teeShmAlloc(tee, '1MiB');
    });
    s.run();
    expect(out.four).toBe('ENOMEM');
    expect(out.one).toEqual({ fd: 4, id: 1 });
  });

  it('mmap of a registered (USER_MAPPED) shm fd: -EINVAL', () => {
    const { out, run } = processA(version);
    run(function* (p) {
      const buf = yield* touched(p, '64KiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      out.mmap = yield* p.mmapShm(shm);
    });
    expect(out.mmap).toBe('EINVAL');
  });
});

describe.each(VERSIONS)('C30 on %s: TEE_IOC_SHM_REGISTER argument errors', (version) => {
  /** Register in a fresh simulation; `setup` makes the buffer. */
  function register(
    setup: (p: System, k: Kernel) => Generator<unknown, Buf, unknown>,
    opts: { flags?: number; tee?: { registerOps?: boolean; dynamicShm?: boolean } } = {},
  ) {
    const s = simP({ version, machine: { ...machineP(), tee: opts.tee } });
    const k = s.k;
    let rc: unknown;
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const buf = yield* setup(p, k);
      const tee = ok(yield* p.open('/dev/tee0'));
      rc = yield* p.teeShmRegister(tee, buf, { flags: opts.flags ?? 0 });
      if (typeof rc !== 'string') return;
      // a failed registration leaves nothing pinned and no shm behind
      expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
      expect([...teeDevice(k).shms.values()].filter((x) => x.flags & TEE_SHM_USER_MAPPED)).toEqual(
        [],
      );
      expect(k.pins.all().next().done).toBe(true);
    });
    s.run();
    return rc;
  }
  const anon = (size: string) =>
    function* (p: System) {
      return yield* touched(p, size);
    };

  it('flags = 1: -EINVAL', () => {
    expect(register(anon('1MiB'), { flags: 1 })).toBe('EINVAL');
  });

  it('a range not mapped at all: -EFAULT', () => {
    expect(
      register(function* () {
        yield* [];
        return new Buf(0x10000000, 1 << 20);
      }),
    ).toBe('EFAULT');
  });

  it.each([true, false])('first half mapped, then a hole: -ENOMEM (touched: %s)', (t) => {
    expect(
      register(function* (p) {
        const buf = ok(yield* p.mmapAnon('2MiB'));
        if (t) ok(yield* p.touch(buf));
        ok(yield* p.munmap(new Buf(buf.addr + (1 << 20), 1 << 20)));
        return buf;
      }),
    ).toBe('ENOMEM');
  });

  it('a VM_PFNMAP/VM_IO mapping (an mmap of a TEE pool shm): -EFAULT', () => {
    expect(
      register(function* (p) {
        const tee = ok(yield* p.open('/dev/tee0'));
        const pool = ok(yield* p.teeShmAlloc(tee, '64KiB'));
        return ok(yield* p.mmapShm(pool));
      }),
    ).toBe('EFAULT');
  });

  it('a page-backed VMA with a write-combined memory type: -EINVAL (optee_check_mem_type)', () => {
    expect(
      register(function* (p, k) {
        // no system call of the model makes a write-combined user mapping: insert the VMA
        const obj = k.rmap.create(ObjKind.ANON, 16, `anon:${p.pid}`);
        const v = p.task.mm.insert(16, VM_READ | VM_WRITE, obj, 0, undefined, 'writecombine');
        const buf = new Buf(v.start * PAGE_SIZE, 16 * PAGE_SIZE);
        ok(yield* p.touch(buf));
        return buf;
      }),
    ).toBe('EINVAL');
  });

  it('the secure world rejects (no dynamic shm): -EINVAL', () => {
    expect(register(anon('1MiB'), { tee: { dynamicShm: false } })).toBe('EINVAL');
  });

  it('a driver without shm_register ops: -ENOTSUPP (524)', () => {
    expect(ERRNO.ENOTSUPP).toBe(524);
    expect(register(anon('1MiB'), { tee: { registerOps: false } })).toBe('ENOTSUPP');
  });
});

describe('C31 (6.18): the TEE protected heap’s dynamic pool backed by CMA', () => {
  const machine = (poolSize: string) => ({
    ...machineP(),
    heaps: [
      { name: 'svp', type: 'cma' as const, area: 'svp' },
      { name: 'protected,secure-video', type: 'tee-protected' as const, area: 'svp', poolSize },
    ],
  });

  it('one cma_alloc(16384, align 8) for the whole pool; release with the last buffer', () => {
    const s = simP({ machine: machine('64MiB') });
    const k = s.k;
    const svp = k.cma[0]!;
    const out: Record<string, unknown> = {};
    actor(s, 'player', { uid: 1000 }, function* (p) {
      const first = ok(yield* p.dmaHeapAlloc('protected,secure-video', '12MiB'));
      out.start = k.trace.named('cma_alloc_start').map((r) => k.trace.body(r));
      out.availAfterFirst = svp.availableCount;
      const more: number[] = [];
      for (const size of ['12MiB', '12MiB', '12MiB', '16MiB']) {
        more.push(ok(yield* p.dmaHeapAlloc('protected,secure-video', size)));
      }
      out.cmaCalls = k.vm.cma_alloc_success + k.vm.cma_alloc_fail;
      for (const fd of more) ok(yield* p.close(fd));
      out.releasedBeforeLast = svp.releasePagesSuccess;
      ok(yield* p.close(first));
      out.releasedAfterLast = svp.releasePagesSuccess;
      out.availAfterLast = svp.availableCount;
    });
    s.run();
    expect(out.start).toEqual([
      'name=svp request_count=16384 available_count=65536 total_count=65536 align=8',
    ]);
    expect(out.availAfterFirst).toBe(65536 - 16384);
    expect(out.cmaCalls).toBe(1); // 64 MiB in five buffers, one cma_alloc
    expect(out.releasedBeforeLast).toBe(0);
    expect(out.releasedAfterLast).toBe(16384);
    expect(out.availAfterLast).toBe(65536);
  });

  /** A registers its 64 MiB (the C7 pins), then asks the protected heap for 12 MiB. */
  function pinnedThenPool(poolSize: string) {
    const s = simP({ machine: machine(poolSize), policies: LOWEST_PFN });
    const out: Record<string, unknown> = {};
    actor(s, 'A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '64MiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      ok(yield* p.teeShmRegister(tee, buf));
      out.rc = yield* p.dmaHeapAlloc('protected,secure-video', '12MiB');
    });
    s.run();
    return { k: s.k, rc: out.rc };
  }

  it('with the C7 pins at offsets [0, 16384), a 64 MiB pool still fits above them', () => {
    const { k, rc } = pinnedThenPool('64MiB');
    expect(rc).toBe(5);
    // windows s = 0, 256, ..., 16128 hold pinned pages (§2.3: floor(16383/256) + 1 = 64)
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(64);
    expect(k.trace.named('cma_alloc_finish')[0]!.fields.page).toBe(B + 16384);
  });

  it('if the pool’s cma_alloc fails (the C7 pins), the ioctl returns -ENOMEM', () => {
    // a pool the C7 pins block in every window: 200 MiB (min_size comes from the platform)
    const { k, rc } = pinnedThenPool('200MiB');
    expect(rc).toBe('ENOMEM');
    expect(k.vm.cma_alloc_fail).toBe(1);
    expect(k.cma[0]!.allocPagesFail).toBe(51200);
  });
});
