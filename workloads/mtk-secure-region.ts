import { defineWorkload } from 'cmascope';

// The MediaTek whole-region secure heap (kernel-model.md §5.5 item 2; C7, C8, C9, C24): the workload behind
// the 2023 patch "tee: add FOLL_LONGTERM for CMA case when alloc shm".
//
// A 2 GiB TV SoC (DRAM at 1 GiB) whose device tree reserves the 384 MiB region
// `reg = <0x80000000 0x18000000>` for the `mtk_svp_cma` heap. The heap's first buffer takes the
// WHOLE region in one cma_alloc (align 0, a single window) and hands it to the TEE to protect;
// later buffers only carve from it. Background apps fill normal memory, so the allocator's
// CMA-first rule puts the tail of their memory into the region, until free normal memory and free
// CMA are about equal. A DRM client then opens the TEE, allocates libteec's 1 MiB command buffer
// (TEE_IOC_SHM_ALLOC: unmovable, never CMA), which leaves free CMA above free normal memory, so the
// small buffer it touches next lands in the region (at offset 80560, pfn 0x93ab0, below the apps'
// pages: the kernel's lists hand out the region's highest pageblocks first). It registers that
// buffer (one page by default) with TEE_IOC_SHM_REGISTER and keeps it for its session. At t = 5 s
// playback starts: the decoder allocates its frame buffers.
//
// Parameters:
//   appsMiB      background apps' resident anonymous memory (what pushes pages into the region)
//   shmKiB       the DRM client's registered buffer: 4 KiB is one pinned page
//   frameMiB     one decoder buffer (a 4K NV12 frame is ~12 MiB)
//   frames       decoder buffers allocated at playback start
//
// Expected outcome (playback_start is the first buffer, i.e. the whole-region cma_alloc):
//   teePin=upstream            tee_register = ok, playback_start = ENOMEM, frames_ok = 0: the single
//                              window fails on pfn 0x93ab0 (blame: drm-client via tee_shm) after
//                              migrating the apps' 17455 pages (region_alloc_ms = 370)
//   teePin=v2-longterm         tee_register = ok (the page migrated out first), playback_start = ok,
//                              frames_ok = 16, region_alloc_ms = 374
//   teePin=v2-longterm, teeAccounting=io_uring
//                              the same as v2: the 4 KiB registration is charged (locked_vm = 1
//                              page) and fits the 8 MiB RLIMIT_MEMLOCK
export default defineWorkload({
  name: 'mtk-secure-region',
  description:
    'One pinned page anywhere in a 384 MiB whole-region secure heap stops secure playback',
  machine: {
    memory: '2GiB',
    dramBase: 0x4000_0000,
    reserved: '768MiB', // kernel, GPU and codec carve-outs
    cma: [{ name: 'mtk_svp', size: '384MiB', base: 0x8000_0000 }],
    heaps: [{ name: 'mtk_svp_cma', type: 'secure-region', area: 'mtk_svp' }],
  },
  kernel: { version: '6.18', teePin: 'upstream', teeAccounting: 'none' },
  params: {
    appsMiB: 640,
    shmKiB: 4,
    frameMiB: 12,
    frames: 16,
  },
  duration: '30s',
  *main(sys, params) {
    sys.spawn('apps', { uid: 10000 }, function* (p) {
      const apps = yield* p.mmapAnon(`${params.appsMiB}MiB`);
      if (typeof apps === 'string') return sys.record('apps', apps);
      yield* p.touch(apps);
      yield p.sleep('1h');
    });

    sys.spawn('drm-client', { uid: 1000, memlock: '8MiB' }, function* (p) {
      yield p.sleep('1s');
      const tee = yield* p.open('/dev/tee0');
      if (typeof tee === 'string') return sys.record('tee_register', tee);
      // libteec's command buffer: unmovable memory, never CMA; it leaves free CMA above free
      // normal memory, so the CMA-first rule places the next movable pages in the region
      const cmd = yield* p.teeShmAlloc(tee, '1MiB');
      sys.record('tee_shm_alloc', typeof cmd === 'string' ? cmd : 'ok');
      const buf = yield* p.mmapAnon(`${params.shmKiB}KiB`);
      if (typeof buf === 'string') return sys.record('tee_register', buf);
      yield* p.touch(buf); // the page lands in the region (CMA-first)
      const shm = yield* p.teeShmRegister(tee, buf);
      sys.record('tee_register', typeof shm === 'string' ? shm : 'ok');
      yield p.sleep('1h'); // the DRM session keeps it registered
    });

    const player = sys.spawn('mediaserver', { uid: 1013 }, function* (p) {
      yield p.sleep('5s');
      const t0 = sys.now();
      const buffers: number[] = [];
      for (let i = 0; i < params.frames; i++) {
        const fd = yield* p.dmaHeapAlloc('mtk_svp_cma', `${params.frameMiB}MiB`);
        if (i === 0) {
          sys.record('playback_start', typeof fd === 'string' ? fd : 'ok');
          sys.record('region_alloc_ms', Math.round((sys.now() - t0) / 1e6));
        }
        if (typeof fd === 'string') break;
        buffers.push(fd);
      }
      sys.record('frames_ok', buffers.length);
      if (buffers.length === 0) p.log('secure playback could not start');
      yield p.sleep('10s'); // play
      for (const fd of buffers) yield* p.close(fd); // the last close releases the region
    });
    yield sys.wait(player);
  },
});
