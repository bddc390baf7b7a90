// machine.layout (kernel-model.md §1.9): a machine booted in a captured state has exactly the
// free blocks, pageblock types and CMA bitmap the layout gives, as a legitimate buddy state.

import { describe, expect } from 'vitest';
import { bootKernel, type MachineSpec } from '../../src/kernel/boot.js';
import { MT, MT_NAMES, NR_PAGE_ORDERS } from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { BootLayout } from '../../src/kernel/mm/boot_layout.js';
import { PageKind } from '../../src/kernel/mm/page.js';
import { it } from '../fidelity/fixture.js';
import { checkInvariants } from './invariants.js';

const LAYOUT: BootLayout = {
  pageblocks: { Unmovable: 6, Reclaimable: 3 },
  free: {
    Unmovable: [40, 20, 6, 1, 0, 0, 0, 0, 0, 0, 0],
    Movable: [25, 13, 7, 3, 2, 1, 1, 0, 1, 3, 4],
    Reclaimable: [11, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0],
    CMA: [3, 0, 1, 0, 0, 0, 0, 0, 0, 1, 9],
  },
  cmaAllocated: {
    svp: [
      [0, 1024],
      [4096, 64],
    ],
  },
};

const machine = (layout: BootLayout): MachineSpec => ({
  memory: '128MiB',
  reserved: '8MiB',
  cma: [{ name: 'svp', size: '64MiB', base: '48MiB', orderPerBit: 1 }],
  layout,
});

/** Free blocks per order of each type, from the free lists. */
function freeBlocks(k: Kernel): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const z of k.alloc.zones)
    for (let mt = 0; mt < MT.ISOLATE; mt++)
      for (let o = 0; o < NR_PAGE_ORDERS; o++)
        for (const _ of k.alloc.freeBlocks(z, mt, o)) {
          const name = MT_NAMES[mt]!;
          out[name] ??= new Array<number>(NR_PAGE_ORDERS).fill(0);
          out[name][o]!++;
        }
  return out;
}

describe.each([
  ['top', 'lowest-pfn'],
  ['spread', 'lowest-pfn'],
  ['top', 'kernel'],
] as const)('machine.layout, arrange=%s, placement=%s', (arrange, placement) => {
  const k = bootKernel(
    { machine: machine({ ...LAYOUT, arrange }), policies: { placement } },
    { now: 0 },
  );

  it('boots with exactly the free blocks of the layout, each on its pageblock type', () => {
    expect(freeBlocks(k)).toEqual(LAYOUT.free);
    const pbs = [MT.UNMOVABLE, MT.RECLAIMABLE, MT.CMA].map(
      (mt) => k.alloc.pbMt.filter((t) => t === mt).length,
    );
    expect(pbs).toEqual([6, 3, 32]);
    checkInvariants(k); // among them: no free page outside a block, no two free buddies merged late
  });

  it("sets the CMA bitmap's runs and counts their pages as a client's", () => {
    const svp = k.cmaByName('svp')!;
    expect([svp.used(), svp.maxchunk(), svp.freeRanges()]).toEqual([
      1088,
      12224,
      [
        [1024, 3072],
        [4160, 12224],
      ],
    ]);
    let client = 0;
    for (let p = svp.basePfn; p < svp.basePfn + svp.count; p++)
      if (k.alloc.pages.kind[p] === PageKind.CMA) client++;
    expect(client).toBe(1088);
  });

  it('keeps MemTotal: every page not reserved is managed, free or in use', () => {
    expect(k.totalramPages()).toBe(32768 - 2048); // 128 MiB less 8 MiB reserved
  });
});

describe('machine.layout errors', () => {
  const boot = (layout: BootLayout) => () => bootKernel({ machine: machine(layout) }, { now: 0 });

  it('refuses blocks that cannot fit, runs outside whole bits, and unknown names', () => {
    expect(boot({ free: { Unmovable: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] } })).toThrow(
      'machine.layout.free.Unmovable: 1 of the 1 free order-10 blocks do not fit in the 0 Unmovable pageblocks',
    );
    expect(boot({ free: {}, cmaAllocated: { svp: [[1, 2]] } })).toThrow(
      'machine.layout.cmaAllocated.svp run [1, 2] is not inside the area in whole bits of 2 pages (order_per_bit 1)',
    );
    expect(boot({ free: { Moveable: [] } as BootLayout['free'] })).toThrow(
      "machine.layout.free: unknown migratetype 'Moveable' (Unmovable, Movable, Reclaimable, HighAtomic, CMA)",
    );
    expect(boot({ free: {}, cmaPinned: { svp: 20000 } })).toThrow(
      'machine.layout.cmaPinned.svp: 20000 pinned pages, but the area has 16384 movable pages in use',
    );
  });
});

describe('a machine booted in a layout runs on', () => {
  // 40 MiB must take the pages between the bitmap runs' end (4160) and the area's end (16384)
  it('migrates the boot pages out of the way of a cma_alloc, an unnamed pin blocks it', ({
    machine: boot,
  }) => {
    for (const [pinned, expected] of [
      [0, 'ok'],
      [1, 'ENOMEM'],
    ] as const) {
      const m = boot({
        version: '6.18',
        machine: machine({ ...LAYOUT, arrange: 'spread', cmaPinned: { svp: pinned } }),
      });
      const client = m.spawn('client', {}, function* (p) {
        const fd = yield* p.dmaHeapAlloc('svp', '40MiB');
        return typeof fd === 'string' ? fd : 'ok';
      });
      m.run();
      expect(client.result).toBe(expected);
      expect(m.k.vm.pgmigrate_success).toBeGreaterThan(0);
      checkInvariants(m.k);
    }
  });
});
