// The parsers of a capture bundle (src/device/): formats of 6.4 and 6.18, the pagetypeinfo cap,
// CMA bitmaps with order_per_bit, the version mapping, and file:line in every error.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/device/bundle.js';
import { checkBoot } from '../../src/device/check.js';
import { allocatedRuns, machineOf, nearestVersion, readDevice } from '../../src/device/device.js';
import { bootKernel } from '../../src/kernel/boot.js';
import { ROOT } from '../cli/cli.js';

const FIXTURE = readFileSync(join(ROOT, 'test/fixtures/captures/arm64-6.18-cma.txt'), 'utf8');

describe('nearestVersion', () => {
  it('maps a release to 6.4 or 6.18, whichever is nearer', () => {
    expect(
      ['5.10', '6.1', '6.4', '6.6', '6.11', '6.12', '6.18', '7.0'].map((v) => {
        const [a, b] = v.split('.').map(Number);
        return nearestVersion(a!, b!);
      }),
    ).toEqual(['6.4', '6.4', '6.4', '6.4', '6.18', '6.18', '6.18', '6.18']); // 6.11 is a tie: the newer
  });

  it('warns when the release is not a modelled version', () => {
    const d = readDevice(parseBundle(FIXTURE.replace('6.18.2-rpi', '6.6.31-v8+'), 'dev.txt'));
    expect([d.version, ...d.warnings]).toEqual([
      '6.4',
      'the device runs 6.6.31-v8+; the model has 6.4 and 6.18, and 6.4 is the nearest',
    ]);
    expect(readDevice(parseBundle(FIXTURE, 'dev.txt')).warnings).toEqual([]);
  });
});

describe('allocatedRuns', () => {
  it('turns set bits into page runs, in units of 2^order_per_bit pages', () => {
    // bits 0-1, 31-33 and 63 of 64 bits (two u32 words, as debugfs prints them)
    const words = Uint32Array.from([0x80000003, 0x80000003]);
    expect(allocatedRuns(words, 64, 0)).toEqual([
      [0, 2],
      [31, 3],
      [63, 1],
    ]);
    expect(allocatedRuns(words, 64, 2)).toEqual([
      [0, 8],
      [124, 12],
      [252, 4],
    ]);
    expect(allocatedRuns(words, 63, 0)).toEqual([
      [0, 2],
      [31, 3],
    ]);
  });
});

describe('readDevice', () => {
  it('reads the zones, the CMA area and the processes with their limits', () => {
    const d = readDevice(parseBundle(FIXTURE, 'dev.txt'));
    expect([d.basePfn, d.endPfn, d.reservedPages, d.movablePages, d.minPages.value]).toEqual([
      0x40000, 0x80000, 16384, 0, 1024,
    ]);
    expect(
      d.cma.map((c) => [
        c.name,
        c.basePfn?.value,
        c.count.value,
        c.used?.value,
        c.maxchunk?.value,
        c.allocated?.value,
      ]),
    ).toEqual([['reserved', 0x70000, 32768, 2048, 30720, [[0, 2048]]]]);
    expect(
      d.processes.map((p) => [
        p.pid,
        p.name,
        p.uid,
        p.rssKb,
        p.lckKb,
        p.pinKb,
        p.capIpcLock,
        p.memlock,
      ]),
    ).toEqual([
      [1, 'init', 0, 2048, 0, 0, true, 8388608],
      [412, 'camera-hal', 1047, 40960, 1024, 2048, false, 67108864],
    ]); // kthreadd has no VmRSS: no mm, not a process to model
  });

  it("takes a list pagetypeinfo capped at '>100000' from buddyinfo", () => {
    const capped = FIXTURE.replace(/^(Node 0, zone +DMA +)170/m, '$1100090').replace(
      /(type +Movable +)40 /,
      '$1>100000 ',
    );
    const d = readDevice(parseBundle(capped, 'dev.txt'));
    // buddyinfo's 100090 less Unmovable's 100 and Reclaimable's 30
    expect(d.free.Movable![0]).toBe(99960);
  });

  it('names file:line of a value it cannot read', () => {
    const bad = FIXTURE.replace(/^VmLck:\t {4}1024 kB$/m, 'VmLck:\t1 MB');
    const line = bad.split('\n').indexOf('VmLck:\t1 MB') + 1;
    expect(() => readDevice(parseBundle(bad, 'dev.txt'))).toThrow(
      `dev.txt:${line}: /proc/412/status: expected 'VmLck: N kB', got '1 MB'`,
    );
    const lines = FIXTURE.split('\n');
    const words = lines.indexOf('==> /sys/kernel/debug/cma/reserved/bitmap <==') + 2;
    lines[words - 1] = '1 2 3';
    expect(() => readDevice(parseBundle(lines.join('\n'), 'dev.txt'))).toThrow(
      `dev.txt:${words}: /sys/kernel/debug/cma/reserved/bitmap: 3 words cannot hold the area's 32768 bits`,
    );
  });

  it('refuses lines under a missing file, and lines before the first header', () => {
    expect(() =>
      parseBundle('# cmascope capture v1\n==> /proc/x <== (missing)\noops\n', 'd.txt'),
    ).toThrow("d.txt:3: a line under '/proc/x', which is marked missing");
    expect(() => parseBundle('# cmascope capture v1\noops\n', 'd.txt')).toThrow(
      "d.txt:2: a line before the first '==> PATH <==' header",
    );
  });
});

describe('a CMA area below the memory the kernel keeps', () => {
  it('reserves only below the area and notes the pages it manages instead', () => {
    // the area moved to 0x41000: 4096 pages above DRAM's base, below 16384 unmanaged pages
    const low = FIXTURE.replace(
      /(==> \/sys\/kernel\/debug\/cma\/reserved\/base_pfn <==\n)\d+/,
      `$1${0x41000}`,
    );
    const d = readDevice(parseBundle(low, 'dev.txt'));
    expect([d.reservedPages, d.unreservedPages]).toEqual([4096, 12288]);
    const k = bootKernel({ machine: machineOf(d), version: d.version }, { now: 0 });
    const rows = checkBoot(d, k);
    expect(
      rows.filter((r) => r.status !== 'equal').map((r) => [r.what, r.capture, r.model, r.status]),
    ).toEqual([
      [
        'meminfo MemTotal kB',
        '983040',
        '1032192',
        "note: 12288 unmanaged pages lie above a CMA area's base; the model reserves only below it, so it manages them (in use)",
      ],
    ]);
  });
});

describe('a capture without pagetypeinfo (root only since 5.4)', () => {
  it("boots from buddyinfo: CmaFree's worth of its largest blocks in CMA, the rest Movable", () => {
    const noPt = FIXTURE.replace('==> /proc/pagetypeinfo <==', '==> /proc/pagetypeinfo.x <==');
    const d = readDevice(parseBundle(noPt, 'dev.txt'));
    expect(d.warnings).toEqual([
      "no /proc/pagetypeinfo in dev.txt (it is root only): buddyinfo's free blocks are taken as Movable, but for CmaFree's worth in CMA, the largest first",
    ]);
    // CmaFree 104576 kB = 26144 pages: 25 order-10 blocks, 1 order-9, 4 order-3 (the fixture's own)
    expect(d.free).toEqual({
      Movable: [170, 70, 10, 0, 0, 0, 0, 0, 0, 3, 150],
      CMA: [0, 0, 0, 4, 0, 0, 0, 0, 0, 1, 25],
    });
    const k = bootKernel({ machine: machineOf(d), version: d.version }, { now: 0 });
    const rows = checkBoot(d, k);
    expect(rows.filter((r) => r.status !== 'equal').map((r) => r.what)).toEqual(['pagetypeinfo']);
    expect(rows.find((r) => r.what === 'meminfo CmaFree kB')!.status).toBe('equal');
  });
});
