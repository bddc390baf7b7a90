import { defineWorkload } from 'cmascope';

// Page cache and anonymous memory drifting into CMA, and what a big CMA allocation then costs
// (kernel-model.md §1.6, §2.4, C1, C5; §6 item 1 for the GCMA variant).
//
// A 1 GiB phone with a 256 MiB CMA area 'media' for the camera. Apps keep `appsMiB` resident and
// churn `churnMiB` every 500 ms; a media indexer reads `files` files of `fileMiB` with buffered
// reads (clean page cache) and appends `journalMiB` to a journal (dirty page cache). Once free
// normal memory falls below free CMA, the allocator's CMA-first rule puts about every other movable
// page, anon or page cache, into 'media'. At t = 12 s memory pressure drops the clean cache
// (drop_caches stands in for reclaim) and the indexer reads half the files again. At t = 20 s the
// camera asks the 'media' heap for `bufferMiB`: alloc_contig_range must reclaim the clean cache in
// its window and migrate the anon and dirty pages out. Nothing is pinned, so it succeeds; the
// question is how long it takes and how much it moves.
//
// `--set gcma=true` makes 'media' a guaranteed-CMA area (GCMA, not upstream): its pages never go to
// the buddy allocator, only to clean page cache that reclaim dropped (cleancache). Apps and the
// page cache stay in normal memory; the clean cache dropped at 12 s survives in 'media', and the
// allocation simply evicts it: nothing to migrate, nothing that can block, a fixed cost per page.
//
// Parameters:
//   gcma         'media' is a GCMA area (default false: plain CMA)
//   appsMiB      apps' resident anonymous memory
//   churnMiB     apps' allocation every 500 ms (the oldest unmapped beyond 8)
//   files, fileMiB    the indexer's files, read with buffered reads
//   journalMiB   the indexer's dirty page cache
//   bufferMiB    the camera's buffer
//
// Expected outcome (no TEE here: the same under every teePin / teeAccounting):
//   gcma=false   camera_alloc = ok, alloc_ms = 158, pgmigrate_success = 6591: at t = 19 s 'media'
//                holds 23599 movable pages (anon and page cache), of which the window's clean
//                cache is dropped and the rest migrated (the kernel's lists hand out the area's
//                highest pageblocks first: most of them lie above the window)
//   gcma=true    camera_alloc = ok, alloc_ms = 67, pgmigrate_success = 0: at t = 19 s 'media' holds
//                30626 pages of dropped clean cache (pages_by_state.movable), evicted by the
//                allocation; apps and page cache never entered the area
export default defineWorkload({
  name: 'cache-churn',
  description:
    'Page cache and anon churn drift into CMA; a 200 MiB camera buffer must migrate them out',
  machine: (params) => ({
    memory: '1GiB',
    reserved: '64MiB',
    cma: [{ name: 'media', size: '256MiB', gcma: params.gcma }],
  }),
  kernel: { version: '6.18' },
  params: {
    gcma: false,
    appsMiB: 480,
    churnMiB: 8,
    files: 8,
    fileMiB: 16,
    journalMiB: 16,
    bufferMiB: 200,
  },
  duration: '30s',
  *main(sys, params) {
    sys.spawn('apps', { uid: 10000 }, function* (p) {
      const apps = yield* p.mmapAnon(`${params.appsMiB}MiB`);
      if (typeof apps === 'string') return sys.record('apps', apps);
      yield* p.touch(apps);
      const live = [];
      for (;;) {
        yield p.sleep('500ms');
        const b = yield* p.mmapAnon(`${params.churnMiB}MiB`);
        if (typeof b === 'string') continue;
        yield* p.touch(b);
        live.push(b);
        if (live.length > 8) yield* p.munmap(live.shift()!);
      }
    });

    sys.spawn('indexer', { uid: 1000 }, function* (p) {
      const fds: number[] = [];
      for (let i = 0; i < params.files; i++) {
        const fd = yield* p.open(`/sdcard/DCIM/clip${i}.mp4`, {
          fs: 'ext4',
          size: `${params.fileMiB}MiB`,
        });
        if (typeof fd === 'string') return sys.record('indexer', fd);
        fds.push(fd);
      }
      const journal = yield* p.open('/data/media/journal', {
        fs: 'ext4',
        size: `${params.journalMiB}MiB`,
      });
      if (typeof journal === 'string') return sys.record('indexer', journal);
      for (const fd of fds) {
        yield p.sleep('1s');
        yield* p.read(fd, `${params.fileMiB}MiB`); // clean page cache
        yield* p.write(journal, `${params.journalMiB / params.files}MiB`, {
          offset: `${(fds.indexOf(fd) * params.journalMiB) / params.files}MiB`,
        }); // dirty page cache
      }
      yield p.sleep(12e9 - sys.now()); // t = 12 s: memory pressure
      sys.record('cache_dropped_pages', yield* p.dropCaches());
      for (const fd of fds.slice(0, params.files / 2)) {
        yield p.sleep('500ms');
        yield* p.read(fd, `${params.fileMiB}MiB`);
      }
      yield p.sleep('1h');
    });

    const camera = sys.spawn('camera', { uid: 1047 }, function* (p) {
      yield p.sleep('20s');
      const t0 = sys.now();
      const fd = yield* p.dmaHeapAlloc('media', `${params.bufferMiB}MiB`);
      sys.record('camera_alloc', typeof fd === 'string' ? fd : 'ok');
      sys.record('alloc_ms', Math.round((sys.now() - t0) / 1e6));
      yield p.sleep('5s');
      if (typeof fd !== 'string') yield* p.close(fd);
    });
    yield sys.wait(camera);
  },
});
