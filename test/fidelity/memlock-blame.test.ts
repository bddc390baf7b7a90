// Issue 12 item 5: a failure caused by an accounting limit names the counter, what it held, what
// was asked, the limit, whether CAP_IPC_LOCK applied, and who charged what it held, read from the
// snapshot's JSON. kernel-model.md §7.D on platform P (§7.0): 8 MiB limit (2048 pages), no cap; both
// versions.
import { describe, expect } from 'vitest';
import type { Policies } from '../../src/kernel/config.js';
import { type Snapshot, snapshot } from '../../src/metrics/snapshot.js';
import { textReport } from '../../src/metrics/text.js';
import type { System } from '../../src/workload/api.js';
import { ok, touched, VERSIONS } from './actors.js';
import { it, type Machine, type MachineFixture } from './fixture.js';

/** The final snapshot of the run as a consumer of `-f json` reads it. */
function final(m: Machine): Snapshot {
  m.run();
  const snap = snapshot(m.k, { workload: 'w', seed: 1, results: {}, logs: [] }, m.sim.engine.now);
  return JSON.parse(JSON.stringify(snap));
}

const failures = (m: Machine) => final(m).failures;

describe.each(VERSIONS)('memlock blame on %s', (version) => {
  it('C20 step 2: user 1000 locked_vm 1536 + 1024 > 2048, charged by the io_uring ring of P1', ({
    machine,
  }) => {
    const m = machine({ version });
    const register = (size: string, delay: string) =>
      function* (p: System) {
        yield p.sleep(delay);
        const buf = ok(yield* p.mmapAnon(size));
        const ring = ok(yield* p.ioUringSetup());
        yield* p.ioUringRegisterBuffers(ring, [buf]);
        yield p.sleep('10s');
      };
    m.spawn('P1', { uid: 1000 }, register('6MiB', '0s')); // pid 100
    m.spawn('P2', { uid: 1000 }, register('4MiB', '1s')); // pid 101
    const snap = final(m);
    const [f, ...rest] = snap.failures;
    expect(rest).toEqual([]);
    expect(f).toEqual({
      t: 1e9,
      op: 'io_uring_register_buffers',
      pid: 101,
      errno: 'ENOMEM',
      memlock: {
        counter: 'user.locked_vm',
        uid: 1000,
        held: 1536,
        requested: 1024,
        limit: 2048,
        capIpcLock: false,
        subsystem: 'io_uring',
        chargedBy: [{ subsystem: 'io_uring', pid: 100, pages: 1536 }],
      },
    });
    expect(textReport(snap)).toContain(
      '\n  t=1.000s io_uring_register_buffers ENOMEM: user 1000 locked_vm 1536 + 1024 > 2048 pages (RLIMIT_MEMLOCK 8 MiB)\n' +
        '      caller P2[101]; charged by io_uring ring of pid 100 (1536 pages)\n',
    );
  });

  it('C21 step 2: mm.pinned_vm 1536 + 1024 > 2048, charged by its own RDMA MR', ({ machine }) => {
    const m = machine({ version });
    m.spawn('A', { uid: 1000 }, function* (p) {
      const six = yield* touched(p, '6MiB');
      const four = yield* touched(p, '4MiB');
      const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
      ok(yield* p.rdmaRegMr(ctx, six));
      yield* p.rdmaRegMr(ctx, four);
    });
    const [f] = failures(m);
    expect(f).toMatchObject({ op: 'rdma_reg_mr', pid: 100, errno: 'ENOMEM' });
    expect(f!.memlock).toEqual({
      counter: 'mm.pinned_vm',
      uid: 1000,
      held: 1536,
      requested: 1024,
      limit: 2048,
      capIpcLock: false,
      subsystem: 'rdma',
      chargedBy: [{ subsystem: 'rdma', pid: 100, pages: 1536 }],
    });
  });

  it('C23 (a): mlock(10 MiB) is mm.locked_vm 0 + 2560 > 2048', ({ machine }) => {
    const m = machine({ version });
    m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = ok(yield* p.mmapAnon('10MiB'));
      yield* p.mlock(buf);
    });
    const [f] = failures(m);
    expect(f).toMatchObject({ op: 'mlock', pid: 100, errno: 'ENOMEM' });
    expect(f!.memlock).toEqual({
      counter: 'mm.locked_vm',
      uid: 1000,
      held: 0,
      requested: 2560,
      limit: 2048,
      capIpcLock: false,
      subsystem: 'mlock',
      chargedBy: [],
    });
  });

  it('mm.locked_vm is shared: held 1536 = 512 mlocked + 1024 VFIO-mapped', ({ machine }) => {
    const m = machine({ version });
    m.spawn('A', { uid: 1000 }, function* (p) {
      ok(yield* p.mlock(ok(yield* p.mmapAnon('2MiB'))));
      const vfio = ok(yield* p.open('/dev/vfio/vfio'));
      ok(yield* p.vfioMapDma(vfio, yield* touched(p, '4MiB')));
      yield* p.mlock(ok(yield* p.mmapAnon('4MiB')));
    });
    const [f] = failures(m);
    expect(f).toMatchObject({ op: 'mlock', errno: 'ENOMEM' });
    expect(f!.memlock).toMatchObject({
      counter: 'mm.locked_vm',
      held: 1536,
      requested: 1024,
      chargedBy: [
        { subsystem: 'mlock', pid: 100, pages: 512 },
        { subsystem: 'vfio', pid: 100, pages: 1024 },
      ],
    });
  });

  const tee = (
    machine: MachineFixture,
    policies: Partial<Policies>,
    cred: { capIpcLock?: boolean } = {},
  ) => {
    const m = machine({ version, policies: { teePin: 'v2-longterm', ...policies } });
    m.spawn('A', { uid: 1000, ...cred }, function* (p) {
      const dev = ok(yield* p.open('/dev/tee0'));
      ok(yield* p.teeShmRegister(dev, yield* touched(p, '4MiB'))); // shm id 1
      yield* p.teeShmRegister(dev, yield* touched(p, '64MiB'));
    });
    return failures(m);
  };

  it('C24, teeAccounting=io_uring: user.locked_vm 1024 + 16384 > 2048, charged by TEE shm id 1', ({
    machine,
  }) => {
    const [f] = tee(machine, { teeAccounting: 'io_uring' });
    expect(f).toMatchObject({ op: 'tee_shm_register', pid: 100, errno: 'ENOMEM' });
    expect(f!.memlock).toEqual({
      counter: 'user.locked_vm',
      uid: 1000,
      held: 1024,
      requested: 16384,
      limit: 2048,
      capIpcLock: false,
      subsystem: 'tee_shm',
      chargedBy: [{ subsystem: 'tee_shm', pid: 100, id: 1, pages: 1024 }],
    });
  });

  it('C24, teeAccounting=rdma: mm.pinned_vm, refused before any pin', ({ machine }) => {
    const [f] = tee(machine, { teeAccounting: 'rdma' });
    expect(f!.memlock).toMatchObject({
      counter: 'mm.pinned_vm',
      held: 1024,
      requested: 16384,
      subsystem: 'tee_shm',
      chargedBy: [{ subsystem: 'tee_shm', pid: 100, id: 1, pages: 1024 }],
    });
  });

  it('a failure that no limit caused has no memlock blame', ({ machine }) => {
    expect(tee(machine, { teeAccounting: 'none' })).toEqual([]);
    const [f] = tee(machine, { teeAccounting: 'io_uring' }, { capIpcLock: true });
    expect(f).toBeUndefined();
  });
});
