// The policy switches of kernel-model.md §6 and §8.1 item 10, each against its upstream default: teePin
// (§5.4: upstream / v1 `#if IS_ENABLED(CONFIG_CMA)` / v2 unconditional FOLL_LONGTERM),
// pinsLongtermByDefault (§6 item 7), cmaRetry (§6 items 2–3), cmaEligibility (§6 item 5).
// teeAccounting is C24 in memlock.test.ts.

import { describe, expect } from 'vitest';
import type { KernelSpec } from '../../src/kernel/boot.js';
import { CMA_RETRY_SLEEP_NS, type KernelVersion, type Policies } from '../../src/kernel/config.js';
import { PG_PIN_LONGTERM } from '../../src/kernel/mm/page.js';
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
import { it, type MachineFixture } from './fixture.js';

/** 64 MiB of DRAM whose top 32 MiB is ZONE_MOVABLE, and no CMA area (§6 item 9). */
const MOVABLE_NO_CMA: KernelSpec['machine'] = { memory: '64MiB', movable: '32MiB', minFree: 0 };

/** A registers `size` of anon memory it touched; what moved and how it is pinned. */
function teeRegister(
  boot: MachineFixture,
  version: KernelVersion,
  policies: Partial<Policies>,
  machine?: KernelSpec['machine'],
  size = '16MiB',
) {
  const m = boot({ version, policies, machine });
  const k = m.k;
  const pA = m.spawn('A', { uid: 1000 }, function* (p) {
    const buf = yield* touched(p, size);
    const before = pfnsOf(p.task, buf);
    const tee = ok(yield* p.open('/dev/tee0'));
    const c = counters(k);
    const rc = yield* p.teeShmRegister(tee, buf);
    const d = delta(k, c);
    const after = pfnsOf(p.task, buf);
    const pins = pinsOn(k, after);
    const longtermFlag = after.every((pfn) => (k.alloc.pages.flags[pfn]! & PG_PIN_LONGTERM) !== 0);
    const holder = [...k.pins.all()].map((h) => h.longterm);
    const zones = new Set(after.map((pfn) => k.alloc.zoneOf(pfn).name));
    return { before, rc, d, after, pins, longtermFlag, holder, zones };
  });
  m.run();
  return pA.result;
}

describe.each(VERSIONS)('teePin on %s (§5.4)', (version) => {
  it('upstream: FOLL_PIN|FOLL_WRITE in place, in CMA', ({ machine }) => {
    const o = teeRegister(machine, version, { teePin: 'upstream' });
    expect(o.rc).toEqual({ fd: 4, id: 1 });
    expect(o.before.every(inCma)).toBe(true);
    expect(o.after).toEqual(o.before);
    expect(o.d).toMatchObject({
      pgmigrate_success: 0,
      nr_foll_pin_acquired: 4096,
      nr_foll_pin_released: 0,
    });
    expect(o.holder).toEqual([false]);
    expect(o.longtermFlag).toBe(false);
  });

  it.for(['v2-longterm', 'v1-cma-ifdef'] as const)(
    '%s with a CMA area: FOLL_LONGTERM, migrated out first (C8)',
    (teePin, { machine }) => {
      const o = teeRegister(machine, version, { teePin });
      expect(o.rc).toEqual({ fd: 4, id: 1 });
      expect(o.after.some(inCma)).toBe(false);
      expect(o.d).toMatchObject({
        pgmigrate_success: 4096,
        nr_foll_pin_acquired: 8192,
        nr_foll_pin_released: 4096,
      });
      expect(o.pins).toEqual(new Array(4096).fill(1));
      expect(o.holder).toEqual([true]);
      expect(o.longtermFlag).toBe(true);
    },
  );

  it('without a CMA area, v1 pins short-term (in ZONE_MOVABLE); v2 still moves out (§4.4)', ({
    machine,
  }) => {
    const up = teeRegister(machine, version, { teePin: 'upstream' }, MOVABLE_NO_CMA);
    const v1 = teeRegister(machine, version, { teePin: 'v1-cma-ifdef' }, MOVABLE_NO_CMA);
    const v2 = teeRegister(machine, version, { teePin: 'v2-longterm' }, MOVABLE_NO_CMA);
    for (const o of [up, v1]) {
      expect(o.zones).toEqual(new Set(['Movable']));
      expect(o.after).toEqual(o.before);
      expect(o.d).toMatchObject({ pgmigrate_success: 0, nr_foll_pin_acquired: 4096 });
      expect(o.holder).toEqual([false]);
    }
    expect(v2.zones).toEqual(new Set(['Normal']));
    expect(v2.d).toMatchObject({
      pgmigrate_success: 4096,
      nr_foll_pin_acquired: 8192,
      nr_foll_pin_released: 4096,
    });
    expect(v2.holder).toEqual([true]);
  });
});

/** Register a writable MAP_SHARED ext4 mapping with the TEE. */
function teeExt4(
  boot: MachineFixture,
  version: KernelVersion,
  policies: Partial<Policies>,
  machine?: KernelSpec['machine'],
) {
  const m = boot({ version, policies, machine });
  const a = m.spawn('A', { uid: 1000 }, function* (p) {
    const fd = ok(yield* p.open('/data/f', { fs: 'ext4', size: '1MiB' }));
    const buf = ok(yield* p.mmapFile(fd, '1MiB', { shared: true, write: true }));
    ok(yield* p.touch(buf));
    const tee = ok(yield* p.open('/dev/tee0'));
    return yield* p.teeShmRegister(tee, buf);
  });
  m.run();
  return a.result;
}

describe('teePin and a writable MAP_SHARED ext4 buffer on 6.18 (§5.4 last paragraph)', () => {
  it('upstream: success; v2: -EFAULT; v1: -EFAULT with a CMA area, success without', ({
    machine,
  }) => {
    expect(teeExt4(machine, '6.18', { teePin: 'upstream' })).toEqual({ fd: 5, id: 1 });
    expect(teeExt4(machine, '6.18', { teePin: 'v2-longterm' })).toBe('EFAULT');
    expect(teeExt4(machine, '6.18', { teePin: 'v1-cma-ifdef' })).toBe('EFAULT');
    expect(teeExt4(machine, '6.18', { teePin: 'v1-cma-ifdef' }, MOVABLE_NO_CMA)).toEqual({
      fd: 5,
      id: 1,
    });
    expect(teeExt4(machine, '6.18', { teePin: 'v2-longterm' }, MOVABLE_NO_CMA)).toBe('EFAULT');
  });
});

describe.each(VERSIONS)('pinsLongtermByDefault on %s (§6 item 7)', (version) => {
  it('makes the upstream TEE registration long-term', ({ machine }) => {
    const o = teeRegister(machine, version, { teePin: 'upstream', pinsLongtermByDefault: true });
    expect(o.rc).toEqual({ fd: 4, id: 1 });
    expect(o.after.some(inCma)).toBe(false);
    expect(o.d).toMatchObject({
      pgmigrate_success: 4096,
      nr_foll_pin_acquired: 8192,
      nr_foll_pin_released: 4096,
    });
    expect(o.holder).toEqual([true]);
    if (version === '6.18') {
      expect(teeExt4(machine, version, { pinsLongtermByDefault: true })).toBe('EFAULT');
    }
  });

  it('leaves O_DIRECT short-term (pin → DMA → unpin in one operation, §4.7)', ({ machine }) => {
    const m = machine({ version, policies: { pinsLongtermByDefault: true } });
    const k = m.k;
    const pA = m.spawn('A', { uid: 1000 }, function* (p) {
      const buf = yield* touched(p, '1MiB');
      const before = pfnsOf(p.task, buf);
      const c = counters(k);
      const rc = yield* p.directIo(buf, { duration: '1ms' });
      const d = delta(k, c);
      const after = pfnsOf(p.task, buf);
      return { before, rc, d, after };
    });
    m.run();
    const rA = pA.result;
    expect(rA.rc).toBe(1 << 20);
    expect(rA.after).toEqual(rA.before);
    expect(rA.after.every(inCma)).toBe(true);
    expect(rA.d).toMatchObject({
      pgmigrate_success: 0,
      // 6.4 takes FOLL_GET references (iov_iter_get_pages), 6.18 FOLL_PIN (§4.7)
      nr_foll_pin_acquired: version === '6.4' ? 0 : 256,
      nr_foll_pin_released: version === '6.4' ? 0 : 256,
    });
  });
});

// ---- cmaRetry: an O_DIRECT read holds A's CMA pages while a whole-area allocation runs ----

/** 48 MiB: 16 MiB non-CMA below a 32 MiB area 'c' (so Fc > Fn and A lands in CMA). */
const SMALL: KernelSpec['machine'] = {
  memory: '48MiB',
  minFree: 0,
  cma: [{ name: 'c', size: '32MiB' }],
};

function retryCase(
  boot: MachineFixture,
  version: KernelVersion,
  cmaRetry: Policies['cmaRetry'],
  ioDuration: string,
) {
  const m = boot({ version, policies: { cmaRetry }, machine: SMALL });
  const k = m.k;
  const pA = m.spawn('A', { uid: 1000 }, function* (p) {
    const buf = yield* touched(p, '1MiB');
    const inCma = pfnsOf(p.task, buf).every((pfn) => k.cmaOf(pfn) !== undefined);
    const io = yield* p.directIo(buf, { duration: ioDuration });
    const ioDone = p.now();
    return { inCma, io, ioDone };
  });
  const pPlayer = m.spawn('player', { uid: 1001 }, function* (p) {
    yield p.sleep('10ms');
    const start = p.now();
    const rc = yield* p.dmaHeapAlloc('c', '32MiB'); // count 8192, align 8: a single window
    const end = p.now();
    return { start, rc, end };
  });
  m.run();
  return {
    ...pA.result,
    ...pPlayer.result,
    busy: k.trace.count('cma_alloc_busy_retry'),
    errorno: k.trace.named('cma_alloc_finish').map((r) => r.fields.errorno),
    pins: k.vm.nr_foll_pin_acquired - k.vm.nr_foll_pin_released,
  };
}

describe.each(VERSIONS)('cmaRetry on %s (§6 items 2–3)', (version) => {
  it('upstream: the single window fails once and cma_alloc gives up (-ENOMEM)', ({ machine }) => {
    const o = retryCase(machine, version, 'upstream', '250ms');
    expect(o.inCma).toBe(true);
    expect(o.rc).toBe('ENOMEM');
    expect(o.busy).toBe(1);
    expect(o.errorno).toEqual([-16]);
    expect(o.end).toBeLessThan(o.ioDone);
  });

  it('android: rescans after 100 ms sleeps and succeeds once the I/O completed', ({ machine }) => {
    const o = retryCase(machine, version, 'android', '250ms');
    // scans at ~10, ~110, ~210 ms fail; the O_DIRECT pin is gone at ~250 ms; ~310 ms succeeds
    expect(o.rc).toBe(3);
    expect(o.busy).toBe(3);
    expect(o.errorno).toEqual([0]);
    expect(o.end).toBeGreaterThan(o.ioDone);
    expect(o.end - o.start).toBeGreaterThanOrEqual(3 * CMA_RETRY_SLEEP_NS);
  });

  it('android: at most 10 retries (11 scans, ~1 s of sleep), then -EBUSY → -ENOMEM', ({
    machine,
  }) => {
    const o = retryCase(machine, version, 'android', '2s');
    expect(o.rc).toBe('ENOMEM');
    expect(o.busy).toBe(11);
    expect(o.errorno).toEqual([-16]);
    expect(o.end - o.start).toBeGreaterThanOrEqual(10 * CMA_RETRY_SLEEP_NS);
    expect(o.end).toBeLessThan(o.ioDone);
  });

  it('nofail: rescans every 100 ms until the pin is gone', ({ machine }) => {
    const o = retryCase(machine, version, 'nofail', '2s');
    // scans at ~10 + 100·i ms; the I/O ends at ~2000 ms, so scans 0–19 fail and scan 20 succeeds
    expect(o.rc).toBe(3);
    expect(o.busy).toBe(20);
    expect(o.errorno).toEqual([0]);
    expect(o.end).toBeGreaterThan(o.ioDone);
    expect(o.pins).toBe(0);
  });
});

describe.each(VERSIONS)('cmaEligibility on %s (§6 item 5)', (version) => {
  it("'tagged-only' keeps anon and page cache out of CMA; the C7 pins then block nothing", ({
    machine,
  }) => {
    for (const cmaEligibility of ['movable', 'tagged-only'] as const) {
      const m = machine({ version, policies: { cmaEligibility } });
      const k = m.k;
      const pA = m.spawn('A', { uid: 1000 }, function* (p) {
        const buf = yield* touched(p, '64MiB');
        const anon = pfnsOf(p.task, buf);
        const fd = ok(yield* p.open('/data/cache', { fs: 'ext4', size: '1MiB' }));
        ok(yield* p.read(fd, '1MiB'));
        const cache = [...k.inodes.get('/data/cache')!.obj.pages];
        const tee = ok(yield* p.open('/dev/tee0'));
        ok(yield* p.teeShmRegister(tee, buf));
        const heap = yield* p.dmaHeapAlloc('svp', '200MiB');
        return { anon, cache, heap };
      });
      m.run();
      const rA = pA.result;
      const tagged = cmaEligibility === 'tagged-only';
      expect(rA.anon.some(inCma)).toBe(!tagged);
      expect(rA.cache.some(inCma)).toBe(!tagged);
      expect(rA.heap).toBe(tagged ? 6 : 'ENOMEM');
      expect(k.trace.count('cma_alloc_busy_retry')).toBe(tagged ? 0 : 57);
      expect(freeCma(k)).toBe(65536);
    }
  });
});
