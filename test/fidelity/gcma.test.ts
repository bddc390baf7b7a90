// kernel-model.md §6 item 1: a guaranteed-CMA area lends its pages only to discardable clean cache, so
// cma_alloc never migrates and never fails while the bitmap has a window.
import { describe, expect } from 'vitest';
import { cmaAlloc } from '../../src/kernel/mm/cma.js';
import { ok, touched } from './actors.js';
import { type Boot, it } from './fixture.js';

/** 256 MiB with a 64 MiB area 'g', guaranteed (GCMA) or plain CMA. */
const gcmaMachine = (gcma: boolean): Boot => ({
  version: '6.18',
  policies: { pcp: 'on' }, // the kernel's defaults
  machine: { memory: '256MiB', minFree: 0, cma: [{ name: 'g', size: '64MiB', gcma }] },
});

describe('GCMA area', () => {
  it('takes no anon pages, keeps dropped clean cache, and allocates without migrating', ({
    machine,
  }) => {
    const m = machine(gcmaMachine(true));
    const { k } = m;
    const g = k.cma[0]!;
    m.spawn('app', { uid: 1000 }, function* (p) {
      yield* touched(p, '150MiB');
      const fd = ok(yield* p.open('/data/movie.mkv', { fs: 'ext4', size: '32MiB' }));
      yield* p.read(fd, '32MiB');
      yield* p.dropCaches();
      yield p.sleep('1h'); // stay alive: exit would free everything
    });
    m.spawn('camera', { uid: 1047 }, function* (p) {
      yield p.sleep('1s');
      yield* p.cmaDebugfsAlloc('g', 16384);
      yield* p.cmaDebugfsFree('g', 16384);
    });
    m.run(2e9);
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

  it('the same area as plain CMA fills with anon memory that cma_alloc must migrate', ({
    machine,
  }) => {
    const m = machine(gcmaMachine(false));
    const { k } = m;
    m.spawn('app', { uid: 1000 }, function* (p) {
      yield* touched(p, '150MiB');
      yield p.sleep('1h');
    });
    m.run(1e9);
    const g = k.cma[0]!;
    const r = m.drive(cmaAlloc(k, g, g.count, 0));
    expect(r.pfn).toBe(g.basePfn);
    expect(r.migrated).toBeGreaterThan(0);
  });
});

describe('reclaim of a mapped clean page-cache page (§2.4 reclaim_clean_pages_from_list)', () => {
  it('unmaps it from every mapping first, so the next access faults it back in', ({ machine }) => {
    const m = machine({
      version: '6.18',
      policies: { pcp: 'on' }, // the kernel's defaults
      machine: { memory: '48MiB', minFree: 0, cma: [{ name: 'svp', size: '32MiB' }] },
    });
    const { k } = m;
    const reader = m.spawn('reader', { uid: 1000 }, function* (p) {
      const t = p.task;
      const fd = ok(yield* p.open('/data/a', { fs: 'ext4', size: '4KiB' }));
      const map = ok(yield* p.mmapFile(fd, '4KiB', { shared: true, write: false }));
      yield* p.touch(map, { write: false });
      const before = t.mm.pageAt(map.addr / 4096);
      yield p.sleep('2s'); // the camera allocates the whole area meanwhile
      const after = t.mm.pageAt(map.addr / 4096);
      const rss = t.mm.rss();
      const touch = yield* p.touch(map, { write: false });
      return { before, after, rss, touch, again: t.mm.pageAt(map.addr / 4096) };
    });
    const camera = m.spawn('camera', { uid: 1047 }, function* (p) {
      yield p.sleep('1s');
      return { alloc: yield* p.cmaDebugfsAlloc('svp', 8192) };
    });
    m.run();
    const seen = { ...reader.result, ...camera.result };
    expect(k.cmaOf(seen.before)).toBeDefined(); // CMA-first put the page cache in CMA
    expect(seen.alloc).toBe(0);
    expect(seen.after).toBe(-1); // dropped and unmapped
    expect(seen.rss).toBe(0);
    expect(seen.touch).toBe(0);
    expect(seen.again).toBeGreaterThanOrEqual(0);
  });
});
