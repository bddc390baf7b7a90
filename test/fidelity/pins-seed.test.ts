// kernel-model.md §7.C: the seed scenario, pins versus CMA — C7 (upstream TEE pins block cma_alloc) and
// C8 (the v2 FOLL_LONGTERM patch moves the pages out first).
import { describe, expect } from 'vitest';
import { inCma, ok, touched, VERSION_PLACEMENTS } from './actors.js';
import { it, type Machine } from './fixture.js';

/** Platform P with process A (uid 1000, 8 MiB memlock) touching 64 MiB, then registering it. */
/** C1's tee-client registers 64 MiB it touched; the player allocates 200 MiB from the heap. */
function seed(m: Machine) {
  const { k } = m;
  const client = m.spawn('tee-client', { uid: 1000 }, function* (p) {
    const buf = yield* touched(p, '64MiB');
    const freeCmaAfterTouch = k.alloc.freeCounts()[1];
    const tee = ok(yield* p.open('/dev/tee0'));
    const pinBefore = { ...k.vm };
    const register = yield* p.teeShmRegister(tee, buf);
    const shm = ok(register);
    const acquired = k.vm.nr_foll_pin_acquired - pinBefore.nr_foll_pin_acquired;
    const released = k.vm.nr_foll_pin_released - pinBefore.nr_foll_pin_released;
    const migrated = k.vm.pgmigrate_success - pinBefore.pgmigrate_success;
    const freeCmaAfterRegister = k.alloc.freeCounts()[1];
    yield p.sleep('10s');
    yield* p.close(shm);
    const releasedAfterClose = k.vm.nr_foll_pin_released - pinBefore.nr_foll_pin_released;
    yield p.sleep('10s');
    return {
      freeCmaAfterTouch,
      register,
      acquired,
      released,
      migrated,
      freeCmaAfterRegister,
      releasedAfterClose,
    };
  });
  const player = m.spawn('player', { uid: 1001 }, function* (p) {
    yield p.sleep('5s');
    const first = yield* p.dmaHeapAlloc('svp', '200MiB');
    const busyRetries = k.trace.count('cma_alloc_busy_retry');
    yield p.sleep('10s'); // after the shm fd is closed
    return { first, busyRetries, second: yield* p.dmaHeapAlloc('svp', '200MiB') };
  });
  m.run();
  return { k, log: { ...client.result, ...player.result }, task: client.task };
}

describe.each(VERSION_PLACEMENTS)(
  'C7 on %s, placement=%s: upstream TEE registration blocks CMA',
  (version, placement) => {
    it('57 busy windows, -ENOMEM to the player, then success after close', ({ machine }) => {
      const { k, log, task } = seed(
        machine({ version, policies: { teePin: 'upstream', placement } }),
      );
      expect(log.freeCmaAfterTouch).toBe(65536 - 16384); // C1 state
      expect(log.register).toEqual({ fd: 4, id: 1 });
      expect(log.acquired).toBe(16384); // pinned in place
      expect(log.released).toBe(0);
      expect(log.migrated).toBe(0);
      expect(task.mm.pinnedVm).toBe(0);
      expect(task.mm.lockedVm).toBe(0);
      expect(log.first).toBe('ENOMEM');
      expect(log.busyRetries).toBe(57);
      expect(k.trace.named('cma_alloc_finish')[0]!.fields.errorno).toBe(-16);
      const cmaFail = k.failures.find((f) => f.op === 'cma_alloc')!;
      expect(cmaFail).toMatchObject({ errno: 'EBUSY', area: 'svp', count: 51200 });
      expect(cmaFail.blocker).toMatchObject({ comm: 'tee-client', via: 'tee_shm', id: 1 });
      expect(inCma(cmaFail.blocking_pfn!)).toBe(true);
      expect(k.cma[0]!.allocPagesFail).toBe(51200);
      expect(k.vm.cma_alloc_fail).toBe(1);
      expect(k.printkLog.records().length).toBe(version === '6.4' ? 1 : 5);
      expect(log.releasedAfterClose).toBe(16384);
      expect(log.second).toBe(3); // the player's first fd: success at window 0
      expect(k.vm.cma_alloc_success).toBe(1);
    });
  },
);

describe.each(['6.18', '6.4'] as const)('C8 on %s: the v2 patch (FOLL_LONGTERM)', (version) => {
  it('migrates 16384 pages out of CMA before pinning; the heap allocation succeeds', ({
    machine,
  }) => {
    const { k, log } = seed(machine({ version, policies: { teePin: 'v2-longterm' } }));
    expect(log.register).toEqual({ fd: 4, id: 1 });
    expect(log.acquired).toBe(32768);
    expect(log.released).toBe(16384);
    expect(log.migrated).toBe(16384);
    expect(log.freeCmaAfterRegister).toBe(65536);
    expect(log.first).toBe(3);
    expect(k.trace.count('cma_alloc_busy_retry')).toBe(0);
  });
});
