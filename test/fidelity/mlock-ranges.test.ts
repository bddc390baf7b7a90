// mlock(2) over holes and special mappings (kernel-model.md §4.6 mlock row, read against 6.18 mm/mlock.c:
// apply_vma_lock_flags, mlock_fixup, do_mlock).
import { describe, expect, it } from 'vitest';
import { Buf } from '../../src/workload/api.js';
import { ok, pfnsOf, processA, VERSIONS } from './actors.js';

describe.each(VERSIONS)('mlock ranges on %s', (version) => {
  // apply_vma_lock_flags() walks the VMAs in order and returns -ENOMEM at the first gap; the
  // VMAs before it keep VM_LOCKED and their locked_vm charge (mlock_fixup), and do_mlock()
  // returns before __mm_populate(), so nothing is faulted in
  it('a hole after the first mapping: -ENOMEM, the first mapping stays locked, unpopulated', () => {
    const { out, run } = processA(version);
    run(function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      const b = ok(yield* p.mmapAnon('16KiB'));
      out.gap = b.addr - (a.addr + a.len);
      out.rc = yield* p.mlock(new Buf(a.addr, b.addr + b.len - a.addr));
      out.locked = p.task.mm.lockedVm;
      out.pfns = pfnsOf(p.task, a);
      out.unlock = yield* p.munlock(new Buf(a.addr, b.addr + b.len - a.addr));
      out.after = p.task.mm.lockedVm;
    });
    expect(out.gap).toBeGreaterThan(0);
    expect(out.rc).toBe('ENOMEM');
    expect(out.locked).toBe(4);
    expect(out.pfns).toEqual([-1, -1, -1, -1]);
    expect(out.unlock).toBe('ENOMEM');
    expect(out.after).toBe(0);
  });

  it('a range starting in a hole: -ENOMEM, nothing locked; a zero length: 0', () => {
    const { out, run } = processA(version);
    run(function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      out.hole = yield* p.mlock(new Buf(a.addr - 4096, a.len + 4096));
      out.locked = p.task.mm.lockedVm;
      out.zero = yield* p.mlock(new Buf(a.addr - 4096, 0));
    });
    expect(out.hole).toBe('ENOMEM');
    expect(out.locked).toBe(0);
    expect(out.zero).toBe(0);
  });

  // mlock_fixup(): VM_SPECIAL (VM_IO|VM_PFNMAP…) mappings are neither flagged nor counted; they
  // still count in total_vm for mlockall's check
  it('mlockall(MCL_CURRENT) does not count a remap_pfn_range TEE shm mapping in VmLck', () => {
    const { out, run } = processA(version);
    run(function* (p) {
      const tee = ok(yield* p.open('/dev/tee0'));
      const shm = ok(yield* p.teeShmAlloc(tee, '4KiB'));
      ok(yield* p.mmapShm(shm));
      ok(yield* p.mmapAnon('16KiB'));
      out.total = p.task.mm.totalVm;
      out.rc = yield* p.mlockall({ current: true });
      out.locked = p.task.mm.lockedVm;
      out.unlock = yield* p.munlockall();
      out.after = p.task.mm.lockedVm;
    });
    expect(out.total).toBe(5);
    expect(out.rc).toBe(0);
    expect(out.locked).toBe(4);
    expect(out.unlock).toBe(0);
    expect(out.after).toBe(0);
  });
});

describe.each(VERSIONS)('mprotect ranges on %s', (version) => {
  // do_mprotect_pkey(): `if (start & ~PAGE_MASK) return -EINVAL`; the VMAs before a gap keep
  // the new protection (mprotect_fixup) and the call returns -ENOMEM
  it('an unaligned start is EINVAL; a gap is ENOMEM after the first mapping went read-only', () => {
    const { out, run } = processA(version);
    run(function* (p) {
      const a = ok(yield* p.mmapAnon('16KiB'));
      const b = ok(yield* p.mmapAnon('16KiB'));
      out.unaligned = yield* p.mprotect(new Buf(a.addr + 100, 4096), 'r');
      out.gap = yield* p.mprotect(new Buf(a.addr, b.addr + b.len - a.addr), 'r');
      out.writeA = yield* p.touch(a);
      out.writeB = yield* p.touch(b);
    });
    expect(out.unaligned).toBe('EINVAL');
    expect(out.gap).toBe('ENOMEM');
    expect(out.writeA).toBe('EFAULT'); // read-only now
    expect(out.writeB).toBe(0);
  });
});
