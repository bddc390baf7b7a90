// TEE shm details beyond §7.E: the 6.4 pool allocator's power-of-two rounding, registration of
// unaligned and zero-length ranges, and shm references across dup, fork and invokes (kernel-model.md §5.1,
// §5.3; drivers/tee/optee/core.c optee_pool_op_alloc_helper, tee_shm.c register_shm_helper).

import { describe, expect } from 'vitest';
import { teeDevice } from '../../src/kernel/drivers/tee/tee_shm.js';
import { Buf, type Result } from '../../src/workload/api.js';
import { counters, delta, ok, pfnsOf, pinsOn, touched, VERSIONS } from './actors.js';
import { it } from './fixture.js';

describe('TEE_IOC_SHM_ALLOC of 12 KiB', () => {
  // 6.4 optee_pool_op_alloc_helper(): alloc_pages(GFP_KERNEL | __GFP_ZERO, get_order(size)),
  // shm->size = PAGE_SIZE << order; alloc_pages_exact() replaced it in 6.8 ("optee: allocate
  // shared memory with alloc_pages_exact()"), so 6.18 takes exactly 3 pages
  it.for([
    ['6.4', 4],
    ['6.18', 3],
  ] as const)(
    '%s takes %i pages, and gives them all back on close',
    ([version, pages], { runAs }) => {
      const r = runAs(version, { uid: 1000 }, function* (p, k) {
        const tee = ok(yield* p.open('/dev/tee0'));
        const free = k.alloc.freeCounts()[0];
        const shm = ok(yield* p.teeShmAlloc(tee, '12KiB'));
        const used = free - k.alloc.freeCounts()[0];
        const pfns = teeDevice(k).shms.get(shm.id)!.pfns.length;
        ok(yield* p.close(shm));
        const after = free - k.alloc.freeCounts()[0];
        return { used, pfns, after };
      });
      expect(r.used).toBe(pages);
      expect(r.pfns).toBe(pages);
      expect(r.after).toBe(0);
    },
  );
});

describe.each(VERSIONS)('TEE_IOC_SHM_REGISTER ranges on %s', (version) => {
  // register_shm_helper(): start = rounddown(addr), num_pages = roundup(addr + len) - start
  it('an unaligned 4 KiB buffer spans and pins 2 pages', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '16KiB');
      const tee = ok(yield* p.open('/dev/tee0'));
      const before = counters(k);
      const shm = ok(yield* p.teeShmRegister(tee, new Buf(buf.addr + 100, 4096)));
      const d = delta(k, before);
      const pins = pinsOn(k, pfnsOf(p.task, buf));
      const n = teeDevice(k).shms.get(shm.id)!.pfns.length;
      return { d, pins, n };
    });
    expect(r.n).toBe(2);
    expect(r.pins).toEqual([1, 1, 0, 0]);
    expect(r.d).toMatchObject({ nr_foll_pin_acquired: 2 });
  });
});

describe.each(VERSIONS)('shm references on %s (§5.3)', (version) => {
  it('dup and fork keep the pins until the last fd; an in-flight invoke outlives them', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p, k) {
      const buf = yield* touched(p, '16KiB');
      const pfns = pfnsOf(p.task, buf);
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmRegister(tee, buf));
      const dupFd = ok(yield* p.dup(shm));
      const before = counters(k);
      let childSees: number[] = [];
      let invoke: Result<number> | undefined;
      ok(
        yield* p.fork('C', function* (c) {
          yield c.sleep('10ms');
          childSees = pinsOn(k, pfns);
        }),
      );
      ok(yield* p.close(shm));
      const afterClose = pinsOn(k, pfns);
      // an invoke holding the shm (tee_shm_get_from_id) over the last close
      const inv = p.fork('I', function* (c) {
        invoke = yield* c.teeInvoke(tee, [shm.id], '50ms');
      });
      ok(yield* inv);
      yield p.sleep('1ms');
      ok(yield* p.close(dupFd));
      const afterDup = pinsOn(k, pfns);
      yield p.sleep('100ms');
      const afterAll = pinsOn(k, pfns);
      const d = delta(k, before);
      return { afterClose, childSees, afterDup, invoke, afterAll, d };
    });
    expect(r.afterClose).toEqual([1, 1, 1, 1]);
    expect(r.childSees).toEqual([1, 1, 1, 1]);
    expect(r.afterDup).toEqual([1, 1, 1, 1]); // the invoke and the child's fds still hold it
    expect(r.invoke).toBe(0);
    expect(r.afterAll).toEqual([0, 0, 0, 0]); // the child exited, the invoke returned
    expect(r.d).toMatchObject({ nr_foll_pin_released: 4 });
  });
});

describe('TEE_IOC_SHM_REGISTER of length 0', () => {
  // 6.18 register_shm_helper(): iov_iter_npages() of an empty iterator is 0 → -ENOMEM, at any
  // address. 6.4: num_pages = (roundup(addr + 0) - rounddown(addr)) / PAGE_SIZE is 0 for an
  // aligned address, pin_user_pages_fast() takes 0 pages, and optee_shm_register() refuses
  // `!num_pages` with -EINVAL; an unaligned address spans one page, which is registered
  it.for([
    ['6.18', 0, 'ENOMEM', 0],
    ['6.18', 100, 'ENOMEM', 0],
    ['6.4', 0, 'EINVAL', 0],
    ['6.4', 100, 'shm', 1],
  ] as const)(
    '%s at page offset %i: %s, %i page pinned',
    ([version, off, expected, pinned], { runAs }) => {
      const r = runAs(version, { uid: 1000 }, function* (p, k) {
        const buf = yield* touched(p, '16KiB');
        const tee = ok(yield* p.open('/dev/tee0'));
        const before = counters(k);
        const rc = yield* p.teeShmRegister(tee, new Buf(buf.addr + off, 0));
        const d = delta(k, before);
        return { rc, d };
      });
      if (expected === 'shm') expect(r.rc).toEqual({ fd: 4, id: 1 });
      else expect(r.rc).toBe(expected);
      expect(r.d).toMatchObject({ nr_foll_pin_acquired: pinned });
    },
  );
});
