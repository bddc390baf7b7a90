// mlock(2) over holes and special mappings (kernel-model.md §4.6 mlock row, read against 6.18 mm/mlock.c:
// apply_vma_lock_flags, mlock_fixup, do_mlock).
import { describe, expect } from 'vitest';
import { Buf } from '../../src/workload/api.js';
import { ok, pfnsOf, VERSIONS } from './actors.js';
import { it } from './fixture.js';

describe.each(VERSIONS)('mlock ranges on %s', (version) => {
  // apply_vma_lock_flags() walks the VMAs in order and returns -ENOMEM at the first gap; the
  // VMAs before it keep VM_LOCKED and their locked_vm charge (mlock_fixup), and do_mlock()
  // returns before __mm_populate(), so nothing is faulted in
  it('a hole after the first mapping: -ENOMEM, the first mapping stays locked, unpopulated', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      const b = ok(yield* p.mmapAnon('16KiB'));
      const gap = b.addr - (a.addr + a.len);
      const rc = yield* p.mlock(new Buf(a.addr, b.addr + b.len - a.addr));
      const locked = p.task.mm.lockedVm;
      const pfns = pfnsOf(p.task, a);
      const unlock = yield* p.munlock(new Buf(a.addr, b.addr + b.len - a.addr));
      return { gap, rc, locked, pfns, unlock, after: p.task.mm.lockedVm };
    });
    expect(r.gap).toBeGreaterThan(0);
    expect(r.rc).toBe('ENOMEM');
    expect(r.locked).toBe(4);
    expect(r.pfns).toEqual([-1, -1, -1, -1]);
    expect(r.unlock).toBe('ENOMEM');
    expect(r.after).toBe(0);
  });

  it('a range starting in a hole: -ENOMEM, nothing locked; a zero length: 0', ({ runAs }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      const hole = yield* p.mlock(new Buf(a.addr - 4096, a.len + 4096));
      const locked = p.task.mm.lockedVm;
      return { hole, locked, zero: yield* p.mlock(new Buf(a.addr - 4096, 0)) };
    });
    expect(r.hole).toBe('ENOMEM');
    expect(r.locked).toBe(0);
    expect(r.zero).toBe(0);
  });

  // mlock_fixup(): VM_SPECIAL (VM_IO|VM_PFNMAP…) mappings are neither flagged nor counted; they
  // still count in total_vm for mlockall's check
  it('mlockall(MCL_CURRENT) does not count a remap_pfn_range TEE shm mapping in VmLck', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmAlloc(tee, '4KiB'));
      ok(yield* p.mmapShm(shm));
      ok(yield* p.mmapAnon('16KiB'));
      const total = p.task.mm.totalVm;
      const rc = yield* p.mlockall({ current: true });
      const locked = p.task.mm.lockedVm;
      const unlock = yield* p.munlockall();
      return { total, rc, locked, unlock, after: p.task.mm.lockedVm };
    });
    expect(r.total).toBe(5);
    expect(r.rc).toBe(0);
    expect(r.locked).toBe(4);
    expect(r.unlock).toBe(0);
    expect(r.after).toBe(0);
  });
});

describe.each(VERSIONS)('mprotect ranges on %s', (version) => {
  // do_mprotect_pkey(): `if (start & ~PAGE_MASK) return -EINVAL`; the VMAs before a gap keep
  // the new protection (mprotect_fixup) and the call returns -ENOMEM
  it('an unaligned start is EINVAL; a gap is ENOMEM after the first mapping went read-only', ({
    runAs,
  }) => {
    const r = runAs(version, { uid: 1000 }, function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      const b = ok(yield* p.mmapAnon('16KiB'));
      const unaligned = yield* p.mprotect(new Buf(a.addr + 100, 4096), 'r');
      const gap = yield* p.mprotect(new Buf(a.addr, b.addr + b.len - a.addr), 'r');
      const writeA = yield* p.touch(a);
      return { unaligned, gap, writeA, writeB: yield* p.touch(b) };
    });
    expect(r.unaligned).toBe('EINVAL');
    expect(r.gap).toBe('ENOMEM');
    expect(r.writeA).toBe('EFAULT'); // read-only now
    expect(r.writeB).toBe(0);
  });
});
