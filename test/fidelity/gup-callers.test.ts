// GUP and its long-term callers beyond the §7 cases: gup_must_unshare() for R/O long-term pins,
// the argument checks of VFIO, RDMA and io_uring, and where io_uring charges (kernel-model.md §4.3–§4.6,
// read against mm/gup.c, vfio_iommu_type1.c, umem.c and io_uring/rsrc.c).
import { describe, expect } from 'vitest';
import type { Kernel } from '../../src/kernel/kernel.js';
import { PG_PIN_LONGTERM } from '../../src/kernel/mm/page.js';
import { Cell } from '../../src/metrics/page-state.js';
import { snapshot } from '../../src/metrics/snapshot.js';
import { cmaMap } from '../../src/metrics/view.js';
import { Buf, type Result, type System } from '../../src/workload/api.js';
import { dmesg } from '../helpers.js';
import { counters, delta, inCma, ok, pfnsOf, pinsOn, touched, VERSIONS } from './actors.js';
import { it, type RunAs } from './fixture.js';

describe.each(VERSIONS)('R/O long-term pins of untouched anon memory on %s', (version) => {
  // gup_must_unshare(): a FOLL_PIN|FOLL_LONGTERM without FOLL_WRITE of a page that is not anon
  // (the shared zero page) in a COW mapping unshares it: the fault allocates an exclusive anon
  // page, under PF_MEMALLOC_PIN so outside CMA (6.0+, 84209e87c696 "reliable R/O long-term
  // pinning in COW mappings"). Only short-term pins and FOLL_GET get the zero page (§4.2).
  it('gup_test R/O pin: 4 real pages outside CMA, each pinned once', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = ok(yield* p.mmapAnon('16KiB'));
      const before = counters(k);
      const rc = yield* p.gupPin(buf, { write: false });
      const d = delta(k, before);
      const pfns = pfnsOf(p.task, buf);
      const pins = pinsOn(k, pfns);
      return { rc, d, pfns, pins };
    });
    expect(r.rc).toBe(0);
    const pfns = r.pfns;
    expect(pfns.every((pfn) => pfn >= 0 && !inCma(pfn))).toBe(true);
    expect(r.pins).toEqual([1, 1, 1, 1]);
    expect(r.d).toMatchObject({ nr_foll_pin_acquired: 4, nr_foll_pin_released: 0 });
  });

  it('a read-only RDMA MR charges and pins 4 real pages', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = ok(yield* p.mmapAnon('16KiB'));
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const before = counters(k);
      const mr = yield* p.rdmaRegMr(ctx, buf, { write: false });
      const d = delta(k, before);
      const pins = pinsOn(k, pfnsOf(p.task, buf));
      const pinned = p.task.mm.pinnedVm;
      return { mr, d, pins, pinned };
    });
    expect(typeof r.mr).toBe('number');
    expect(r.pins).toEqual([1, 1, 1, 1]);
    expect(r.d).toMatchObject({ nr_foll_pin_acquired: 4 });
    expect(r.pinned).toBe(4);
  });
});

describe.each(VERSIONS)('argument checks on %s', (version) => {
  // vfio_dma_do_map(): `if (!size || (size | iova | vaddr) & (pgsize - 1)) return -EINVAL`
  it('VFIO_IOMMU_MAP_DMA of a length that is not a page multiple is EINVAL, nothing pinned', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '16KiB');
      const fd = ok(yield* p.open('/dev/vfio/vfio'));
      const before = counters(k);
      const rc = yield* p.vfioMapDma(fd, new Buf(buf.addr, 4096 + 100));
      const d = delta(k, before);
      const locked = p.task.mm.lockedVm;
      return { rc, d, locked };
    });
    expect(r.rc).toBe('EINVAL');
    expect(r.d).toMatchObject({ nr_foll_pin_acquired: 0 });
    expect(r.locked).toBe(0);
  });

  // ib_umem_get(): can_do_mlock() (-EPERM) comes before the npages == 0 check (-EINVAL)
  it('RDMA MR of length 0 with RLIMIT_MEMLOCK 0 is EPERM', ({ machine }) => {
    const m = machine({ version });
    const pA = m.spawn('A', { uid: 1000, memlock: 0 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16KiB'));
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const rc = yield* p.rdmaRegMr(ctx, new Buf(buf.addr, 0));
      return { rc };
    });
    m.run();
    const rA = pA.result;
    expect(rA.rc).toBe('EPERM');
  });

  // io_sqe_buffers_register(): `if (!nr_args || nr_args > IORING_MAX_REG_BUFFERS) return -EINVAL`
  it('IORING_REGISTER_BUFFERS with no iovec is EINVAL and registers nothing', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16KiB'));
      const ring = ok(yield* p.ioUringSetup());
      const empty = yield* p.ioUringRegisterBuffers(ring, []);
      const after = yield* p.ioUringRegisterBuffers(ring, [buf]); // not -EBUSY
      return { empty, after };
    });
    expect(r.empty).toBe('EINVAL');
    expect(r.after).toBe(0);
  });

  // io_buffer_validate(): `if (!iov->iov_base) return iov->iov_len ? -EFAULT : 0` — a NULL,
  // zero-length iovec is an empty (sparse) slot; a zero length elsewhere is -EFAULT
  it('IORING_REGISTER_BUFFERS: {NULL, 0} is an empty slot; {addr, 0} is EFAULT', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('16KiB'));
      const ring = ok(yield* p.ioUringSetup());
      const sparse = yield* p.ioUringRegisterBuffers(ring, [new Buf(0, 0), buf]);
      const pinned = p.task.mm.pinnedVm;
      const locked = p.task.user.lockedVm;
      const ring2 = ok(yield* p.ioUringSetup());
      const zero = yield* p.ioUringRegisterBuffers(ring2, [new Buf(buf.addr, 0)]);
      return { sparse, pinned, locked, zero };
    });
    expect(r.sparse).toBe(0);
    expect(r.pinned).toBe(4);
    expect(r.locked).toBe(4);
    expect(r.zero).toBe('EFAULT');
  });
});

describe('io_uring charges the ring creator (ctx->user, ctx->mm_account)', () => {
  // io_uring_create(): ctx->mm_account = current->mm (mmgrab) and ctx->user = current_user();
  // io_account_mem() charges those, whichever task registers: a forked child sharing the ring
  // charges its parent's mm->pinned_vm, and io_buffer_unmap un-charges the same mm
  it.for(VERSIONS)(
    '%s: a child registering on the inherited ring charges the parent mm',
    (version, { machine }) => {
      const m = machine({ version });
      const P = m.spawn('P', { uid: 1000 }, function* (p) {
        const ring = ok(yield* p.ioUringSetup());
        const parent = p.task;
        // the child's body cannot return to the test: what it sees comes back through here
        const seen: number[] = [];
        let rc: Result<number> | undefined;
        let unreg: Result<number> | undefined;
        ok(
          yield* p.fork('C', function* (c) {
            const buf = ok(yield* c.mmapAnon('16KiB'));
            rc = yield* c.ioUringRegisterBuffers(ring, [buf]);
            seen.push(c.task.mm.pinnedVm, parent.mm.pinnedVm);
            unreg = yield* c.ioUringUnregisterBuffers(ring);
            seen.push(parent.mm.pinnedVm);
          }),
        );
        yield p.sleep('1s');
        const [childPinned, parentPinned, parentAfter] = seen;
        return { rc, childPinned, parentPinned, unreg, parentAfter };
      });
      m.run();
      const r = P.result;
      expect(r.rc).toBe(0);
      expect(r.childPinned).toBe(0);
      expect(r.parentPinned).toBe(4);
      expect(r.unreg).toBe(0);
      expect(r.parentAfter).toBe(0);
    },
  );
});

describe.each(VERSIONS)('PIN_LONGTERM_TEST_START arguments on %s', (version) => {
  // pin_longterm_test_start(): `if (!IS_ALIGNED(args.addr | args.size, PAGE_SIZE)) return
  // -EINVAL` and `if (!nr_pages) return -EINVAL`, before any pin
  it('an unaligned address or size, or size 0: EINVAL, nothing pinned or held', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '16KiB');
      const before = counters(k);
      const addr = yield* p.gupPin(new Buf(buf.addr + 100, 4096));
      const size = yield* p.gupPin(new Buf(buf.addr, 4096 + 100));
      const zero = yield* p.gupPin(new Buf(buf.addr, 0));
      const d = delta(k, before);
      const stop = yield* p.gupUnpin(); // nothing held
      const pin = yield* p.gupPin(buf);
      return { addr, size, zero, d, stop, pin };
    });
    expect([r.addr, r.size, r.zero]).toEqual(['EINVAL', 'EINVAL', 'EINVAL']);
    expect(r.d).toMatchObject({ nr_foll_pin_acquired: 0 });
    expect(r.stop).toBe('EINVAL');
    expect(r.pin).toBe(0);
  });
});

/**
 * A TEE registration (teePin=upstream: FOLL_PIN, in place in CMA) of 4 touched pages, then a
 * FOLL_LONGTERM pin by `caller` over the same buffer; what the second pin did.
 */
function longtermOverTeePins(
  runAs: RunAs,
  version: (typeof VERSIONS)[number],
  caller: 'gup_test' | 'io_uring' | 'rdma' | 'vfio',
) {
  return runAs(version, { uid: 1000 }, function* (p, k) {
    const buf = yield* touched(p, '16KiB');
    const pfns = pfnsOf(p.task, buf);
    const allInCma = pfns.every(inCma);
    ok(yield* p.teeShmRegister(ok(yield* p.open('/dev/tee0')), buf));
    const before = counters(k);
    let rc: Result<number>;
    if (caller === 'gup_test') rc = yield* p.gupPin(buf);
    else if (caller === 'io_uring') {
      rc = yield* p.ioUringRegisterBuffers(ok(yield* p.ioUringSetup()), [buf]);
    } else if (caller === 'rdma') {
      rc = yield* p.rdmaRegMr(ok(yield* p.open('/dev/infiniband/uverbs0')), buf);
    } else rc = yield* p.vfioMapDma(ok(yield* p.open('/dev/vfio/vfio')), buf);
    const d = delta(k, before);
    const pins = pinsOn(k, pfns);
    const moved = pfnsOf(p.task, buf).some((pfn, i) => pfn !== pfns[i]);
    const acct = [p.task.mm.pinnedVm, p.task.user.lockedVm];
    const long = labelledLong(k, pfns);
    const view = areaView(k);
    return { inCma: allInCma, rc, d, pins, moved, acct, long, view };
  });
}

describe.each(VERSIONS)('FOLL_LONGTERM against CMA pages on %s (§4.3)', (version) => {
  // migrate_longterm_unpinnable_folios(): the caller's own pins are dropped first, so only
  // the TEE's remain; migrate_pages() fails every folio after its passes (pgmigrate_fail, in
  // pages) and any failure makes the long-term pin -ENOMEM, not -EBUSY
  it.for(['io_uring', 'rdma'] as const)(
    '%s over pages the TEE pinned: ENOMEM, nothing charged',
    (caller, { runAs }) => {
      const out = longtermOverTeePins(runAs, version, caller);
      expect(out.inCma).toBe(true);
      expect(out.rc).toBe('ENOMEM');
      expect(out.d).toMatchObject({
        nr_foll_pin_acquired: 4,
        nr_foll_pin_released: 4,
        pgmigrate_success: 0,
        pgmigrate_fail: 4,
      });
      expect(out.pins).toEqual([1, 1, 1, 1]); // the TEE's
      expect(out.moved).toBe(false);
      expect(out.acct).toEqual([0, 0]);
    },
  );

  // 6.18 io_pin_pages() uses pin_user_pages_fast: gup_fast keeps the pinnable prefix and the
  // slow path pins, unpins, migrates and re-pins only the rest. 6.4 uses pin_user_pages: all
  // 8 pages are pinned, unpinned and re-pinned although only 4 move
  it('io_uring over 4 non-CMA pages then 4 CMA pages: the counters of each path', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = ok(yield* p.mmapAnon('32KiB'));
      ok(yield* p.gupPin(new Buf(buf.addr, 16384))); // faults 4 pages under PF_MEMALLOC_PIN
      ok(yield* p.gupUnpin());
      ok(yield* p.touch(buf)); // the other 4 land in CMA
      const placed = pfnsOf(p.task, buf).map(inCma);
      const ring = ok(yield* p.ioUringSetup());
      const before = counters(k);
      const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
      const d = delta(k, before);
      const after = pfnsOf(p.task, buf).some(inCma);
      const pins = pinsOn(k, pfnsOf(p.task, buf));
      return { placed, rc, d, after, pins };
    });
    expect(r.placed).toEqual([false, false, false, false, true, true, true, true]);
    expect(r.rc).toBe(0);
    expect(r.d).toMatchObject(
      version === '6.4'
        ? { nr_foll_pin_acquired: 16, nr_foll_pin_released: 8, pgmigrate_success: 4 }
        : { nr_foll_pin_acquired: 12, nr_foll_pin_released: 4, pgmigrate_success: 4 },
    );
    expect(r.after).toBe(false);
    expect(r.pins).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

/** The 'svp' area as the snapshot and the TUI map (one page per cell) show it. */
function areaView(k: Kernel) {
  const byState = snapshot(k, { workload: 't', seed: 0, results: {}, logs: [] }, 0).cma.svp!
    .pages_by_state;
  const cells = cmaMap(k, k.cma[0]!, k.cma[0]!.count).cells;
  const count = (c: Cell) => cells.filter((x) => x === c).length;
  return { byState, mapShort: count(Cell.PINNED_SHORT), mapLong: count(Cell.PINNED_LONG) };
}

/** Pages of `pfns` labelled long-term pinned. */
const labelledLong = (k: Kernel, pfns: readonly number[]): number =>
  pfns.filter((pfn) => (k.alloc.pages.flags[pfn]! & PG_PIN_LONGTERM) !== 0).length;

describe.each(VERSIONS)(
  'the pin label follows the live pins on %s (issue #13 item 19)',
  (version) => {
    // teePin=upstream pins the registration with FOLL_PIN only, in place in CMA; a FOLL_LONGTERM
    // pin over the same pages then fails (they cannot migrate while pinned) and unpins what it
    // took. The pages hold only the TEE's short-term pin: nothing may show them as long-term.
    it.for(['gup_test', 'io_uring', 'rdma', 'vfio'] as const)(
      'a failed %s long-term pin over TEE-pinned CMA pages leaves them pinned short-term',
      (caller, { runAs }) => {
        const out = longtermOverTeePins(runAs, version, caller);
        expect(out.inCma).toBe(true);
        expect(out.rc).toBe('ENOMEM');
        expect(out.d).toMatchObject({ nr_foll_pin_acquired: 4, nr_foll_pin_released: 4 });
        expect(out.pins).toEqual([1, 1, 1, 1]); // the TEE's
        expect(out.view).toEqual({
          byState: {
            free: 65532,
            cma_client: 0,
            movable: 0,
            pinned_short: 4,
            pinned_long: 0,
            isolated: 0,
          },
          mapShort: 4,
          mapLong: 0,
        });
        expect(out.long).toBe(0);
      },
    );

    // A long-term pin (outside CMA, migrated there by gup_test) under a TEE short-term pin: when
    // the long-term pin goes, the pages keep only the short-term one.
    it('a dropped long-term pin under a live short-term pin: the label goes with it', ({
      runAs,
    }) => {
      const r = runAs(version, { uid: 1000 }, function* (p, k) {
        const buf = yield* touched(p, '16KiB');
        ok(yield* p.gupPin(buf)); // migrates the 4 pages out of CMA, pins them long-term
        const pfns = pfnsOf(p.task, buf);
        const anyInCma = pfns.some(inCma);
        ok(yield* p.teeShmRegister(ok(yield* p.open('/dev/tee0')), buf)); // short-term, in place
        const both = [pinsOn(k, pfns), labelledLong(k, pfns)];
        ok(yield* p.gupUnpin());
        const tee = [pinsOn(k, pfns), labelledLong(k, pfns)];
        return { inCma: anyInCma, both, tee };
      });
      expect(r.inCma).toBe(false);
      expect(r.both).toEqual([[2, 2, 2, 2], 4]);
      expect(r.tee).toEqual([[1, 1, 1, 1], 0]);
    });
  },
);

describe.each(VERSIONS)('RDMA access rights and limits on %s', (version) => {
  // check_vma_flags(): FOLL_WRITE on a VMA without VM_WRITE (no FOLL_FORCE) is -EFAULT; RDMA
  // has already charged pinned_vm and rolls it back
  it('a writable MR over a read-only mapping: EFAULT, rolled back; a read-only MR: OK', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '16KiB');
      ok(yield* p.mprotect(buf, 'r'));
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const rw = yield* p.rdmaRegMr(ctx, buf, { write: true });
      const pinnedRw = p.task.mm.pinnedVm;
      const ro = yield* p.rdmaRegMr(ctx, buf, { write: false });
      const pinnedRo = p.task.mm.pinnedVm;
      return { rw, pinnedRw, ro, pinnedRo };
    });
    expect(r.rw).toBe('EFAULT');
    expect(r.pinnedRw).toBe(0);
    expect(typeof r.ro).toBe('number');
    expect(r.pinnedRo).toBe(4);
  });

  // can_do_mlock() is true with CAP_IPC_LOCK even at RLIMIT_MEMLOCK 0, and the cap skips the
  // pinned_vm limit (the charge stays); RLIM_INFINITY never refuses
  it('CAP_IPC_LOCK at limit 0, and an unlimited RLIMIT_MEMLOCK: both register and charge', ({
    machine,
  }) => {
    const m = machine({ version });
    const register = function* (p: System) {
      const buf = ok(yield* p.mmapAnon('16MiB'));
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      const mr = yield* p.rdmaRegMr(ctx, buf);
      return { mr, pinned: p.task.mm.pinnedVm };
    };
    const cap = m.spawn('cap', { uid: 1000, memlock: 0, capIpcLock: true }, register);
    const inf = m.spawn('inf', { uid: 1001, memlock: 'unlimited' }, register);
    m.run();
    expect(typeof cap.result.mr).toBe('number');
    expect(cap.result.pinned).toBe(4096);
    expect(typeof inf.result.mr).toBe('number');
    expect(inf.result.pinned).toBe(4096);
  });
});

describe.each(VERSIONS)('VFIO pins with pin_user_pages_remote on %s', (version) => {
  // vaddr_get_pfns(): pin_user_pages_remote(mm, vaddr, n, flags | FOLL_LONGTERM): no gup_fast,
  // so __gup_longterm_locked pins all 8, unpins all 8 to migrate the 4 CMA pages, and re-pins
  it('4 non-CMA pages then 4 CMA pages: 16 acquired, 8 released, 4 migrated', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = ok(yield* p.mmapAnon('32KiB'));
      ok(yield* p.gupPin(new Buf(buf.addr, 16384)));
      ok(yield* p.gupUnpin());
      ok(yield* p.touch(buf));
      const placed = pfnsOf(p.task, buf).map(inCma);
      const fd = ok(yield* p.open('/dev/vfio/vfio'));
      const before = counters(k);
      const rc = yield* p.vfioMapDma(fd, buf);
      const d = delta(k, before);
      const locked = p.task.mm.lockedVm;
      return { placed, rc, d, locked };
    });
    expect(r.placed).toEqual([false, false, false, false, true, true, true, true]);
    expect(typeof r.rc).toBe('number');
    expect(r.d).toMatchObject({
      nr_foll_pin_acquired: 16,
      nr_foll_pin_released: 8,
      pgmigrate_success: 4,
    });
    expect(r.locked).toBe(8);
  });
});

describe.each(VERSIONS)('VFIO over RLIMIT_MEMLOCK on %s', (version) => {
  // vfio_pin_pages_remote(): pr_warn("%s: RLIMIT_MEMLOCK (%ld) exceeded\n", __func__,
  // limit << PAGE_SHIFT), limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT: whole pages, in bytes
  it('a 10000-byte limit: -ENOMEM at the third page, reported as 8192, nothing charged', ({
    machine,
  }) => {
    const m = machine({ version });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000, memlock: 10000 }, function* (p) {
      const buf = yield* touched(p, '16KiB');
      const fd = ok(yield* p.open('/dev/vfio/vfio'));
      const before = counters(k);
      const rc = yield* p.vfioMapDma(fd, buf);
      const d = delta(k, before);
      const locked = p.task.mm.lockedVm;
      return { rc, d, locked };
    });
    m.run();
    const rA = pA.result;
    expect(rA.rc).toBe('ENOMEM');
    expect(dmesg(k)).toEqual(['vfio_pin_pages_remote: RLIMIT_MEMLOCK (8192) exceeded']);
    // the 4 CMA pages moved first (pin, unpin, migrate, re-pin), then the check failed
    expect(rA.d).toMatchObject({
      nr_foll_pin_acquired: 8,
      nr_foll_pin_released: 8,
      pgmigrate_success: 4,
    });
    expect(rA.locked).toBe(0);
  });
});
