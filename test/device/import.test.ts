// Capture, import and --check (issue #17): the capture script run on this machine's real /proc,
// and the CMA fixtures built from the formats of mm/cma_sysfs.c and mm/cma_debug.c for 6.4 and
// 6.18 (test/fixtures/captures/).

import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/device/bundle.js';
import { checkBoot } from '../../src/device/check.js';
import { machineOf, readDevice } from '../../src/device/device.js';
import { bootKernel } from '../../src/kernel/boot.js';
import { cmascope, ROOT } from '../cli/cli.js';
import { checkInvariants } from '../kernel/invariants.js';

const CAPTURES = join(ROOT, 'test/fixtures/captures');
const readable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};
const boot = (text: string, file: string) => {
  const d = readDevice(parseBundle(text, file));
  return { d, k: bootKernel({ machine: machineOf(d), version: d.version }, { now: 0 }) };
};

describe('capture on this machine', () => {
  it("runs the script with sh and boots a model whose free blocks are the capture's", async () => {
    const script = await cmascope(['capture']);
    expect(script.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'capture-'));
    writeFileSync(join(dir, 'capture.sh'), script.stdout);
    const text = execFileSync('sh', [join(dir, 'capture.sh')], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    writeFileSync(join(dir, 'dev.txt'), text);
    const { d, k } = boot(text, 'dev.txt');
    // the live files move between reads: compare with the bundle, which read each once
    const rows = checkBoot(d, k);
    // /proc/pagetypeinfo is root only: without it, the model boots from buddyinfo
    const rootOnly = !readable('/proc/pagetypeinfo');
    expect(d.pagetypeinfoMissing).toBe(rootOnly);
    const typeRows = rows.filter((r) => r.what.startsWith('pagetypeinfo '));
    expect(typeRows.length > 0).toBe(!rootOnly);
    for (const row of typeRows) expect(row.status, row.what).toBe('equal');
    const buddy = rows.find((r) => r.what.startsWith('buddyinfo'))!;
    expect(
      buddy.status === 'equal' || buddy.status.startsWith('note: buddyinfo was read apart'),
    ).toBe(true);
    expect(rows.find((r) => r.what === 'meminfo MemTotal kB')!.status).toBe('equal');
    checkInvariants(k);
    const check = await cmascope(['import', '--check', join(dir, 'dev.txt')], {
      timeoutMs: 60_000,
    });
    expect(check.stderr === '').toBe(!rootOnly);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(
      rootOnly ? /^pagetypeinfo +missing/m : /^pagetypeinfo Movable +([\d ]+) {2}\1 {2}equal$/m,
    );
  }, 90_000);

  it('the kept live capture as a user who cannot read pagetypeinfo boots from buddyinfo', () => {
    const file = 'live-6.18-x86_64-nonroot.txt';
    const { d, k } = boot(readFileSync(join(CAPTURES, file), 'utf8'), file);
    expect(d.pagetypeinfoMissing).toBe(true);
    const rows = checkBoot(d, k);
    expect(rows.filter((r) => r.status === 'differs')).toEqual([]);
    expect(rows.find((r) => r.what.startsWith('buddyinfo'))!.status).toBe('equal');
  });

  it('the kept live capture (6.18 x86_64, no CMA) boots exactly', () => {
    const file = 'live-6.18-x86_64.txt';
    const { d, k } = boot(readFileSync(join(CAPTURES, file), 'utf8'), file);
    expect(d.version).toBe('6.18');
    expect(d.cma).toEqual([]);
    const rows = checkBoot(d, k);
    expect(rows.filter((r) => r.status === 'differs')).toEqual([]);
    expect(rows.map((r) => r.what).slice(0, 2)).toEqual([
      'buddyinfo (DMA+DMA32+Normal)',
      'pagetypeinfo Unmovable',
    ]);
  });
});

describe('a device with a ZONE_MOVABLE', () => {
  // the 6.4 CMA fixture with its empty Normal zone turned into a 256 MiB ZONE_MOVABLE whose
  // WMARK_MIN is 256 pages (zoneinfo line 24), the DMA zone's 1024 (line 13)
  const text = readFileSync(join(CAPTURES, 'arm64-6.4-cma.txt'), 'utf8')
    .replace(
      'zone   Normal\n  pages free     0\n        min      0\n        low      0\n        high     0\n        spanned  0\n        present  0\n        managed  0\n',
      'zone  Movable\n  pages free     0\n        min      256\n        low      320\n        high     384\n        spanned  65536\n        present  65536\n        managed  65536\n',
    )
    .replace(
      '        protection: (0, 0, 0)\n==> /proc/buddyinfo',
      '        protection: (0, 0, 0)\n  start_pfn:           524288\n==> /proc/buddyinfo',
    );

  it('takes min_free_kbytes from the lowmem zones: 6.4 counts ZONE_MOVABLE, 6.18 not', () => {
    // 6.4 __setup_per_zone_wmarks() shares pages_min between DMA and Movable: 1024 + 256;
    // 6.18 gives Movable a capped WMARK_MIN of its own, so pages_min is the DMA zone's 1024
    const d64 = readDevice(parseBundle(text, 'd.txt'));
    expect([d64.version, d64.movablePages, d64.minPages]).toEqual([
      '6.4',
      65536,
      { value: 1280, at: 'd.txt:13, d.txt:24' },
    ]);
    const d618 = readDevice(parseBundle(text.replace('6.4.16-android15', '6.18.3'), 'd.txt'));
    expect([d618.version, d618.minPages]).toEqual(['6.18', { value: 1024, at: 'd.txt:13' }]);
  });
});

describe.each([
  ['arm64-6.4-cma.txt', '6.4', ['alloc_pages_fail', 'alloc_pages_success']],
  [
    'arm64-6.18-cma.txt',
    '6.18',
    [
      'alloc_pages_fail',
      'alloc_pages_success',
      'available_pages',
      'release_pages_success',
      'total_pages',
    ],
  ],
])('the CMA fixture %s', (file, version, sysfs) => {
  const text = readFileSync(join(CAPTURES, file), 'utf8');

  it(`boots as ${version} with the area, its bitmap and every free count of the capture`, () => {
    const { d, k } = boot(text, file);
    expect(d.version).toBe(version);
    expect(
      parseBundle(text, file)
        .under('/sys/kernel/mm/cma/reserved/')
        .map((s) => s.path.split('/').pop()),
    ).toEqual(sysfs);
    const area = k.cmaByName('reserved')!;
    expect([area.basePfn, area.count, area.orderPerBit, area.used(), area.maxchunk()]).toEqual([
      0x70000, 32768, 0, 2048, 30720,
    ]);
    const rows = checkBoot(d, k);
    expect(rows.filter((r) => r.status !== 'equal')).toEqual([]);
    expect(rows.find((r) => r.what === 'pagetypeinfo CMA')!.model).toBe('0 0 0 4 0 0 0 0 0 1 25');
    expect(rows.find((r) => r.what === 'meminfo CmaFree kB')!.model).toBe('104576');
    checkInvariants(k);
  });

  it('imports into a workload that runs and answers the question', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-'));
    const out = join(dir, 'device.ts');
    const r = await cmascope(['import', join(CAPTURES, file), '-o', out]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const src = readFileSync(out, 'utf8');
    expect(src).toMatch(new RegExp(`// .*${file}:\\d+`));
    expect(src).toContain(`kernel: { version: '${version}' }`);
    const small = await cmascope(['run', out, '--set', 'size=64MiB', '-f', 'json'], {
      timeoutMs: 60_000,
    });
    expect(small.code).toBe(0);
    const results = (JSON.parse(small.stdout) as { results: Record<string, unknown> }[]).at(
      -1,
    )!.results;
    expect(results.cma_alloc).toBe('ok');
    // 120 MiB do not fit beside the 8 MiB a client holds at the start of the 128 MiB area
    const big = await cmascope(['run', out, '--set', 'size=124MiB', '-f', 'json'], {
      timeoutMs: 60_000,
    });
    const bigResults = (JSON.parse(big.stdout) as { results: Record<string, unknown> }[]).at(
      -1,
    )!.results;
    expect(bigResults.cma_alloc).toBe('ENOMEM');
    // the params the capture cannot tell: one unnamed pin in the area's pages in use blocks
    // 100 MiB when the free blocks are spread among them, not when they lie at the top
    const pinned = async (arrange: string) => {
      const r = await cmascope(
        [
          'run',
          out,
          '--set',
          'size=100MiB',
          '--set',
          'cmaPinnedPages=1',
          '--set',
          `arrange=${arrange}`,
          '-f',
          'json',
        ],
        { timeoutMs: 60_000 },
      );
      return (JSON.parse(r.stdout) as { results: Record<string, unknown> }[]).at(-1)!.results
        .cma_alloc;
    };
    expect([await pinned('top'), await pinned('spread')]).toEqual(['ok', 'ENOMEM']);
    const check = await cmascope(['import', '--check', join(CAPTURES, file)], {
      timeoutMs: 60_000,
    });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^camera-hal\[412\] VmPin kB +2048 +2048 +equal$/m);
  }, 120_000);
});
