// kernel-model.md §4.5 and §7: long-term pins of file-backed mappings — C14, the file variant of C8, and the
// gup_longterm selftest matrix F (added in 6.5, so the selftest rows are 6.18; 6.4, which has
// neither the GUP check nor the selftest, is checked against §4.5 directly).
import { describe, expect } from 'vitest';
import type { KernelVersion, Policies } from '../../src/kernel/config.js';
import type { FsType } from '../../src/kernel/mm/mmap.js';
import { Buf, type System } from '../../src/workload/api.js';
import { counters, delta, inCma, ok, pfnsOf, pinsOn, VERSION_PLACEMENTS } from './actors.js';
import { it, type MachineFixture } from './fixture.js';

type Backing = FsType;
const WRITEBACK: readonly Backing[] = ['ext4', 'xfs', 'btrfs'];
const NO_WRITEBACK: readonly Backing[] = ['memfd', 'tmpfs'];

/**
 * Map `size` of a file on `fs` (a memfd for 'memfd'), MAP_SHARED or MAP_PRIVATE, writable, and
 * fault it in by writing (the selftest's memset). Returns the buffer and the file's path.
 */
function* fileMapping(
  p: System,
  fs: Backing,
  shared: boolean,
  size: string,
): Generator<unknown, { buf: Buf; path: string }, unknown> {
  const path = fs === 'memfd' ? '/memfd:buf' : `/mnt/${fs}/buf`;
  const fd = ok(
    fs === 'memfd' ? yield* p.memfd('buf', size) : yield* p.open(path, { fs, size }),
    'open',
  );
  const buf = ok(yield* p.mmapFile(fd, size, { shared, write: true }), 'mmap');
  ok(yield* p.touch(buf), 'touch');
  return { buf, path };
}

/** One process maps a 1 MiB file and calls `pin` on it (C14). */
function c14<R>(
  machine: MachineFixture,
  version: KernelVersion,
  policies: Partial<Policies>,
  fs: Backing,
  shared: boolean,
  pin: (p: System, buf: Buf) => Generator<unknown, R, unknown>,
) {
  const m = machine({ version, policies });
  const k = m.k;
  const a = m.spawn('A', { uid: 1000 }, function* (p) {
    const { buf } = yield* fileMapping(p, fs, shared, '1MiB');
    const before = pfnsOf(p.task, buf);
    const c = counters(k);
    const rc = yield* pin(p, buf);
    const after = pfnsOf(p.task, buf);
    // a shared mapping's object is the file's page cache (a memfd has no path in k.inodes)
    const vma = p.task.mm.findVma(Math.floor(buf.addr / 4096))!;
    return {
      rc,
      before,
      after,
      pins: pinsOn(k, after),
      d: delta(k, c),
      cache: shared ? [...vma.obj.pages.subarray(vma.pgoff, vma.pgoff + 256)] : undefined,
      pinnedVm: p.task.mm.pinnedVm,
    };
  });
  m.run();
  expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released); // all released at exit
  return a.result;
}

const ioUring = function* (p: System, buf: Buf) {
  const ring = ok(yield* p.ioUringSetup());
  return yield* p.ioUringRegisterBuffers(ring, [buf]);
};
const teeRegister = function* (p: System, buf: Buf) {
  const tee = ok(yield* p.open('/dev/tee0'));
  return yield* p.teeShmRegister(tee, buf);
};
const rdmaWritable = function* (p: System, buf: Buf) {
  const ctx = ok(yield* p.open('/dev/infiniband/uverbs0'));
  return yield* p.rdmaRegMr(ctx, buf, { write: true });
};

describe('C14: long-term pins of a writable MAP_SHARED ext4 mapping (6.18)', () => {
  it('(a) io_uring register: -EFAULT; 6.4: -EOPNOTSUPP (io_uring’s own check)', ({ machine }) => {
    const o = c14(machine, '6.18', {}, 'ext4', true, ioUring);
    expect(o.rc).toBe('EFAULT');
    expect(o.d.pgmigrate_success).toBe(0);
    expect(o.pins.every((n) => n === 0)).toBe(true);
    const o64 = c14(machine, '6.4', {}, 'ext4', true, ioUring);
    expect(o64.rc).toBe('EOPNOTSUPP');
    expect(o64.pins.every((n) => n === 0)).toBe(true);
  });

  it.for(['6.18', '6.4'] as const)(
    '(b) upstream TEE register on %s: pinned in place, in CMA',
    (version, { machine }) => {
      const o = c14(machine, version, { teePin: 'upstream' }, 'ext4', true, teeRegister);
      expect(o.rc).toEqual({ fd: 5, id: 1 });
      expect(o.before.every(inCma)).toBe(true); // page cache is MOVABLE: CMA-first on P
      expect(o.after).toEqual(o.before);
      expect(o.pins.every((n) => n === 1)).toBe(true);
      expect(o.d).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 256 });
    },
  );

  it('(c) v2-patched TEE: -EFAULT on 6.18', ({ machine }) => {
    const o = c14(machine, '6.18', { teePin: 'v2-longterm' }, 'ext4', true, teeRegister);
    expect(o.rc).toBe('EFAULT');
    expect(o.after).toEqual(o.before);
    expect(o.pins.every((n) => n === 0)).toBe(true);
    expect(o.d).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 0 });
  });

  it('(c) v2-patched TEE on 6.4: success after moving the CMA page cache out', ({ machine }) => {
    const o = c14(machine, '6.4', { teePin: 'v2-longterm' }, 'ext4', true, teeRegister);
    expect(o.rc).toEqual({ fd: 5, id: 1 });
    expect(o.before.every(inCma)).toBe(true);
    expect(o.after.some(inCma)).toBe(false);
    expect(o.d).toMatchObject({
      pgmigrate_success: 256,
      nr_foll_pin_acquired: 512,
      nr_foll_pin_released: 256,
    });
    expect(o.pins.every((n) => n === 1)).toBe(true);
    expect(o.cache).toEqual(o.after); // the page cache follows the migrated pages
  });

  describe.each(['memfd', 'tmpfs', 'ext4-private'] as const)('(d) the same buffer on %s', (b) => {
    const fs: Backing = b === 'ext4-private' ? 'ext4' : b;
    const shared = b !== 'ext4-private';
    it.for(['6.18', '6.4'] as const)(
      '%s: io_uring and the patched TEE succeed',
      (version, { machine }) => {
        const io = c14(machine, version, {}, fs, shared, ioUring);
        // 6.4 io_pin_pages refuses any vm_file VMA that is not shmem/hugetlbfs, MAP_PRIVATE too (§4.5)
        expect(io.rc).toBe(version === '6.4' && !shared ? 'EOPNOTSUPP' : 0);
        if (io.rc === 0) {
          expect(io.pins.every((n) => n === 1)).toBe(true);
          expect(io.after.some(inCma)).toBe(false);
        }
        const tee = c14(machine, version, { teePin: 'v2-longterm' }, fs, shared, teeRegister);
        expect(tee.rc).toEqual({ fd: 5, id: 1 });
        expect(tee.pins.every((n) => n === 1)).toBe(true);
        expect(tee.after.some(inCma)).toBe(false);
        if (shared) expect(tee.cache).toEqual(tee.after);
      },
    );
  });

  it('(e) RDMA writable MR: -EFAULT, pinned_vm rolled back; 6.4 (no check): success', ({
    machine,
  }) => {
    const o = c14(machine, '6.18', {}, 'ext4', true, rdmaWritable);
    expect(o.rc).toBe('EFAULT');
    expect(o.pinnedVm).toBe(0);
    expect(o.pins.every((n) => n === 0)).toBe(true);
    const o64 = c14(machine, '6.4', {}, 'ext4', true, rdmaWritable);
    expect(o64.rc).toBe(1);
    expect(o64.pinnedVm).toBe(256);
    expect(o64.after.some(inCma)).toBe(false);
  });
});

describe('C8 variant: the v2 patch and a writable MAP_SHARED ext4 buffer', () => {
  it('6.18 (≥ 6.5): Action 1 returns -EFAULT; 6.4: the registration succeeds', ({ machine }) => {
    for (const version of ['6.18', '6.4'] as const) {
      const m = machine({ version, policies: { teePin: 'v2-longterm' } });
      const pA = m.spawn('A', { uid: 1000 }, function* (p) {
        const { buf } = yield* fileMapping(p, 'ext4', true, '64MiB');
        const tee = ok(yield* p.open('/dev/tee0'));
        const rc = yield* p.teeShmRegister(tee, buf);
        return { rc };
      });
      m.run();
      const rA = pA.result;
      expect(rA.rc).toEqual(version === '6.18' ? 'EFAULT' : { fd: 5, id: 1 });
    }
  });
});

// ---- F: tools/testing/selftests/mm/gup_longterm.c -------------------------------------------

type FTest =
  | { kind: 'gup'; write: boolean; fast: boolean; shared: boolean }
  | { kind: 'io_uring'; shared: boolean };

const F_TESTS: [string, FTest][] = [
  ['R/W longterm GUP pin, MAP_SHARED', { kind: 'gup', write: true, fast: false, shared: true }],
  ['R/W longterm GUP-fast pin, MAP_SHARED', { kind: 'gup', write: true, fast: true, shared: true }],
  ['R/O longterm GUP pin, MAP_SHARED', { kind: 'gup', write: false, fast: false, shared: true }],
  [
    'R/O longterm GUP-fast pin, MAP_SHARED',
    { kind: 'gup', write: false, fast: true, shared: true },
  ],
  ['R/W longterm GUP pin, MAP_PRIVATE', { kind: 'gup', write: true, fast: false, shared: false }],
  [
    'R/W longterm GUP-fast pin, MAP_PRIVATE',
    { kind: 'gup', write: true, fast: true, shared: false },
  ],
  ['R/O longterm GUP pin, MAP_PRIVATE', { kind: 'gup', write: false, fast: false, shared: false }],
  [
    'R/O longterm GUP-fast pin, MAP_PRIVATE',
    { kind: 'gup', write: false, fast: true, shared: false },
  ],
  ['io_uring fixed buffer, MAP_SHARED', { kind: 'io_uring', shared: true }],
  ['io_uring fixed buffer, MAP_PRIVATE', { kind: 'io_uring', shared: false }],
];

/** Run one selftest case: map, memset, (R/O: mprotect PROT_READ), pin, unpin. */
function runF(machine: MachineFixture, version: KernelVersion, fs: Backing, t: FTest) {
  const m = machine({ version });
  const k = m.k;
  const a = m.spawn('gup_longterm', { uid: 0 }, function* (p) {
    const { buf } = yield* fileMapping(p, fs, t.shared, '64KiB');
    if (t.kind === 'gup') {
      if (!t.write) ok(yield* p.mprotect(buf, 'r'));
      const rc = yield* p.gupPin(buf, { write: t.write, fast: t.fast });
      const pinned = pinsOn(k, pfnsOf(p.task, buf));
      if (rc === 0) ok(yield* p.gupUnpin());
      return { rc, pinned };
    }
    const ring = ok(yield* p.ioUringSetup());
    const rc = yield* p.ioUringRegisterBuffers(ring, [buf]);
    const pinned = pinsOn(k, pfnsOf(p.task, buf));
    if (rc === 0) ok(yield* p.ioUringUnregisterBuffers(ring));
    return { rc, pinned };
  });
  m.run();
  const { rc, pinned } = a.result;
  expect(pinned.every((n) => n === (rc === 0 ? 1 : 0))).toBe(true);
  expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
  expect(k.pins.all().next().done).toBe(true);
  return rc;
}

describe('F: gup_longterm expectations on 6.18', () => {
  describe.each(F_TESTS)('%s', (_name, t) => {
    const mustFail = t.shared && (t.kind === 'io_uring' || t.write);
    it.for(NO_WRITEBACK)('%s: works', (fs, { machine }) => {
      expect(runF(machine, '6.18', fs, t)).toBe(0);
    });
    it.for(WRITEBACK)(`%s: ${mustFail ? 'must fail (EFAULT)' : 'works'}`, (fs, { machine }) => {
      expect(runF(machine, '6.18', fs, t)).toBe(mustFail ? 'EFAULT' : 0);
    });
  });
});

describe('F on 6.4: neither the GUP check (§4.5) nor io_uring’s -EFAULT exists yet', () => {
  describe.each(F_TESTS)('%s', (_name, t) => {
    it.for([...NO_WRITEBACK, ...WRITEBACK])('%s', (fs, { machine }) => {
      // io_pin_pages refuses every vm_file VMA that is not shmem: -EOPNOTSUPP (§4.5)
      const refused = t.kind === 'io_uring' && WRITEBACK.includes(fs);
      expect(runF(machine, '6.4', fs, t)).toBe(refused ? 'EOPNOTSUPP' : 0);
    });
  });
});

describe.each(VERSION_PLACEMENTS)(
  'gup_test on %s, placement=%s: the selftest’s pin loop (§7.F, §9)',
  (version, placement) => {
    it('a fast-path prefix, then a CMA page pinned by the TEE: -ENOMEM, nothing left pinned', ({
      runAs,
    }) => {
      const r = runAs(
        { version: version, policies: { placement } },
        { uid: 1000 },
        function* (p, k) {
          const buf = ok(yield* p.mmapAnon('8KiB'));
          ok(yield* p.touch(buf)); // both pages in CMA (CMA-first on P)
          const first = new Buf(buf.addr, 4096);
          const second = new Buf(buf.addr + 4096, 4096);
          ok(yield* p.gupPin(first, { fast: true })); // moves page 0 out of CMA
          ok(yield* p.gupUnpin());
          const tee = ok(yield* p.open('/dev/tee0'));
          ok(yield* p.teeShmRegister(tee, second)); // upstream: page 1 pinned in place, in CMA
          const before = pfnsOf(p.task, buf);
          const c = counters(k);
          // pin_user_pages_fast pins page 0, the slow path cannot migrate page 1: it returns 1;
          // the loop retries at page 1 (fast path 0, slow path -ENOMEM) and gives up
          const rc = yield* p.gupPin(buf, { fast: true });
          const d = delta(k, c);
          const pins = pinsOn(k, pfnsOf(p.task, buf));
          return { before, rc, d, pins };
        },
      );
      const { k } = r;
      const before = r.before;
      expect(inCma(before[0]!)).toBe(false);
      expect(inCma(before[1]!)).toBe(true);
      expect(r.rc).toBe('ENOMEM');
      expect(r.pins).toEqual([0, 1]); // only the TEE's pin remains
      expect(r.d.pgmigrate_success).toBe(0);
      expect(k.vm.nr_foll_pin_acquired).toBe(k.vm.nr_foll_pin_released);
    });
  },
);
