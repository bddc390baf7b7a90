// kernel-model.md §6 item 1: a guaranteed-CMA area lends its pages only to discardable clean cache, so
// cma_alloc never migrates and never fails while the bitmap has a window.
import { describe, expect, it } from 'vitest';
import { cmaAlloc } from '../../src/kernel/mm/cma.js';
import { type Buf, System } from '../../src/workload/api.js';
import { Simulation } from '../../src/workload/runtime.js';
import { drive } from '../helpers.js';

function machine(gcma: boolean) {
  return new Simulation({
    machine: { memory: '256MiB', minFree: 0, cma: [{ name: 'g', size: '64MiB', gcma }] },
  });
}

describe('GCMA area', () => {
  it('takes no anon pages, keeps dropped clean cache, and allocates without migrating', () => {
    const sim = machine(true);
    const { k } = sim;
    const g = k.cma[0]!;
    sim.spawn('app', { uid: 1000 }, function* (t) {
      const p = new System(sim, t);
      const anon = (yield* p.mmapAnon('150MiB')) as Buf;
      yield* p.touch(anon);
      const fd = (yield* p.open('/data/movie.mkv', { fs: 'ext4', size: '32MiB' })) as number;
      yield* p.read(fd, '32MiB');
      yield* p.dropCaches();
      yield p.sleep('1h'); // stay alive: exit would free everything
    });
    sim.spawn('camera', { uid: 1047 }, function* (t) {
      const p = new System(sim, t);
      yield p.sleep('1s');
      yield* p.cmaDebugfsAlloc('g', 16384);
      yield* p.cmaDebugfsFree('g', 16384);
    });
    sim.run(2e9);
    const inArea = [...k.alloc.pages.kind.subarray(g.basePfn, g.basePfn + g.count)];
    expect(inArea.filter((kind) => kind === 1 || kind === 2)).toEqual([]); // no anon, no page cache
    expect(k.alloc.freeCounts()[1]).toBe(0); // nr_free_cma: GCMA pages are not in the buddy
    expect(k.cmaCalls).toEqual([
      { area: 'g', count: 16384, errno: 0, latencyNs: 25_000 + 16384 * 1_300 },
    ]);
    expect(g.cleancacheEvictions).toBe(8192); // the 32 MiB of dropped page cache
    expect(k.vm.pgmigrate_success).toBe(0);
    expect(g.releasePagesSuccess).toBe(16384);
    expect(g.availableCount).toBe(g.count);
  });

  it('the same area as plain CMA fills with anon memory that cma_alloc must migrate', () => {
    const sim = machine(false);
    const { k } = sim;
    sim.spawn('app', { uid: 1000 }, function* (t) {
      const p = new System(sim, t);
      const b = (yield* p.mmapAnon('150MiB')) as Buf;
      yield* p.touch(b);
      yield p.sleep('1h');
    });
    sim.run(1e9);
    const g = k.cma[0]!;
    const r = drive(cmaAlloc(k, g, g.count, 0), { now: 0 });
    expect(r.pfn).toBe(g.basePfn);
    expect(r.migrated).toBeGreaterThan(0);
  });
});

describe('reclaim of a mapped clean page-cache page (§2.4 reclaim_clean_pages_from_list)', () => {
  it('unmaps it from every mapping first, so the next access faults it back in', async () => {
    const sim = new Simulation({
      machine: { memory: '48MiB', minFree: 0, cma: [{ name: 'svp', size: '32MiB' }] },
    });
    const { k } = sim;
    const seen: Record<string, unknown> = {};
    sim.spawn('reader', { uid: 1000 }, function* (t) {
      const p = new System(sim, t);
      const fd = (yield* p.open('/data/a', { fs: 'ext4', size: '4KiB' })) as number;
      const map = (yield* p.mmapFile(fd, '4KiB', { shared: true, write: false })) as Buf;
      yield* p.touch(map, { write: false });
      seen.before = t.mm.pageAt(map.addr / 4096);
      yield p.sleep('2s'); // the camera allocates the whole area meanwhile
      seen.after = t.mm.pageAt(map.addr / 4096);
      seen.rss = t.mm.rss();
      seen.touch = yield* p.touch(map, { write: false });
      seen.again = t.mm.pageAt(map.addr / 4096);
      yield p.sleep('1h');
    });
    sim.spawn('camera', { uid: 1047 }, function* (t) {
      const p = new System(sim, t);
      yield p.sleep('1s');
      seen.alloc = yield* p.cmaDebugfsAlloc('svp', 8192);
    });
    sim.run(5e9);
    expect(k.cmaOf(seen.before as number)).toBeDefined(); // CMA-first put the page cache in CMA
    expect(seen.alloc).toBe(0);
    expect(seen.after).toBe(-1); // dropped and unmapped
    expect(seen.rss).toBe(0);
    expect(seen.touch).toBe(0);
    expect(seen.again).toBeGreaterThanOrEqual(0);
  });
});
