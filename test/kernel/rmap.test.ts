// The rmap slot space (src/kernel/mm/rmap.ts): a page's one 32-bit slot names its object and
// index (§8.1 item 1); slots of destroyed objects are reclaimed by compaction, which must keep
// every resident page's identity.

import { describe, expect, it } from 'vitest';
import { bootKernel } from '../../src/kernel/boot.js';
import { ERRNO } from '../../src/kernel/config.js';
import { forkTask, spawnTask } from '../../src/kernel/fork.js';
import { cmaAlloc } from '../../src/kernel/mm/cma.js';
import { faultPage, putObject } from '../../src/kernel/mm/memory.js';
import { NO_OWNER, PageArrays } from '../../src/kernel/mm/page.js';
import { type MemObject, ObjKind, Rmap } from '../../src/kernel/mm/rmap.js';
import { SYSCALLS } from '../../src/kernel/syscalls.js';
import { drive, type TestClock } from '../helpers.js';
import { checkInvariants } from './invariants.js';

/** Give page `pfn` index `idx` of `obj`, as a fault would. */
function own(r: Rmap, obj: MemObject, idx: number, pfn: number): void {
  obj.pages[idx] = pfn;
  obj.nrResident++;
  r.setOwner(pfn, obj, idx);
}

describe('rmap slots', () => {
  it('map a page back to its object and index; NO_OWNER and dead ranges to none', () => {
    const pages = new PageArrays(64);
    const r = new Rmap(pages);
    const a = r.create(ObjKind.ANON, 10, 'a');
    const empty = r.create(ObjKind.FILE, 0, 'empty'); // shares its base with the next object
    const b = r.create(ObjKind.FILE, 5, 'b');
    own(r, a, 9, 3);
    own(r, b, 0, 4);
    expect([r.ownerOf(3), r.indexOf(3), r.ownerId(3)]).toEqual([a, 9, a.id]);
    expect([r.ownerOf(4), r.indexOf(4), r.ownerId(4)]).toEqual([b, 0, b.id]);
    expect([r.ownerOf(5), r.indexOf(5), r.ownerId(5)]).toEqual([undefined, -1, NO_OWNER]);
    r.clearOwner(3);
    expect(r.ownerOf(3)).toBeUndefined();
    r.destroy(empty);
    b.pages[0] = -1;
    b.nrResident = 0;
    r.destroy(b);
    expect(r.ownerOf(4)).toBeUndefined(); // a stale slot of a destroyed object
    expect(r.ownerOf(3)).toBeUndefined();
  });

  it('compact when the space runs out, keeping ids and every resident page', () => {
    const pages = new PageArrays(64);
    const r = new Rmap(pages, 100);
    const a = r.create(ObjKind.ANON, 30, 'a');
    const b = r.create(ObjKind.ANON, 30, 'b');
    const c = r.create(ObjKind.FILE, 30, 'c');
    for (let i = 0; i < 10; i++) {
      own(r, a, i * 3, i);
      own(r, b, i, 20 + i);
      own(r, c, 29 - i, 40 + i);
    }
    for (let i = 0; i < 10; i++) b.pages[i] = -1;
    b.nrResident = 0;
    r.destroy(b);
    const d = r.create(ObjKind.ANON, 39, 'd'); // 91 + 39 > 100: c moves down; d ends at 99
    expect([a.base, c.base, d.base, d.id]).toEqual([1, 31, 61, b.id]);
    own(r, d, 38, 63);
    for (let i = 0; i < 10; i++) {
      expect([r.ownerOf(i), r.indexOf(i)]).toEqual([a, i * 3]);
      expect([r.ownerOf(40 + i), r.indexOf(40 + i)]).toEqual([c, 29 - i]);
    }
    expect([r.ownerOf(63), r.indexOf(63)]).toEqual([d, 38]);
    expect(r.hasRoom(1)).toBe(false);
    expect(() => r.create(ObjKind.ANON, 1, 'e')).toThrow(/no id or slots left/);
  });

  it('a kernel whose slots compact between faults and migration keeps every invariant', () => {
    const clock: TestClock = { now: 0 };
    const k = bootKernel(
      {
        machine: {
          memory: '8MiB',
          dramBase: 0,
          minFree: 0,
          reserved: '2MiB',
          cma: [{ name: 'a', size: '4MiB' }],
        },
      },
      clock,
    );
    Object.assign(k, { rmap: new Rmap(k.alloc.pages, 3000) });
    const idxs = Array.from({ length: 100 }, (_, i) => (i * 7) % 1000);
    const fill = (obj: MemObject) => {
      obj.users = 1;
      for (const i of idxs) expect(faultPage(k, obj, i)).toBeGreaterThan(0);
      return obj;
    };
    const a = fill(k.rmap.create(ObjKind.ANON, 1000, 'a'));
    const b = fill(k.rmap.create(ObjKind.ANON, 1000, 'b'));
    putObject(k, a);
    const c = fill(k.rmap.create(ObjKind.ANON, 1000, 'c')); // 2001 + 1000 > 3000: b moves to 1
    expect([b.base, c.base]).toEqual([1, 1001]);
    checkInvariants(k);
    const live = [b, c];
    // migrate the live objects' pages out of CMA: the slots travel with the content
    const r = drive(cmaAlloc(k, k.cmaByName('a')!, 1024, 0), clock);
    expect(r.pfn).toBeGreaterThanOrEqual(0);
    expect(r.migrated).toBeGreaterThan(0);
    checkInvariants(k);
    for (const obj of live) {
      for (const i of idxs) expect(k.rmap.indexOf(obj.pages[i]!)).toBe(i);
      for (const i of idxs) expect(k.rmap.ownerOf(obj.pages[i]!)).toBe(obj);
    }
  });

  it('out of object ids or slots: mmap, fork and memfd are -ENOMEM, never a crash', () => {
    const k = bootKernel({ machine: { memory: '64MiB' } }, { now: 0 });
    const t = spawnTask(k, 'p', { uid: 0, capIpcLock: false, rlimitMemlock: 0 });
    expect(SYSCALLS.mmap_anon(k, t, 4096, false)).toBeGreaterThan(0);
    while (k.rmap.hasRoom(0)) k.rmap.create(ObjKind.ANON, 0, 'filler'); // 65535 objects live
    expect(SYSCALLS.mmap_anon(k, t, 4096, false)).toBe(-ERRNO.ENOMEM);
    expect(SYSCALLS.memfd_create(k, t, 'm', 4096)).toBe(-ERRNO.ENOMEM);
    expect(SYSCALLS.open(k, t, '/data/f', 'ext4', 4096)).toBe(-ERRNO.ENOMEM);
    expect(forkTask(k, t)).toBeUndefined();
  });
});
