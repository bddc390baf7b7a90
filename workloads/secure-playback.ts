import { defineWorkload } from 'cmascope';

// The 2023 thread's story (C7, C8, C24): a DRM client keeps a buffer registered with the TEE
// while the media player needs its secure video buffers from the same CMA area.
//
// A 1 GiB set-top box with a 256 MiB CMA area 'svp'. Background apps use most of the normal
// memory, so the allocator's CMA-first rule (free CMA > free non-CMA) puts the TEE client's buffer
// into CMA. The client registers it with TEE_IOC_SHM_REGISTER and keeps it for a DRM session; the
// player then asks the 'svp' DMA-BUF heap for its 200 MiB secure buffer.
//
// Expected outcome:
//   teePin=upstream                        playback_start = ENOMEM (57 busy windows; blame: tee_shm)
//   teePin=v2-longterm                     playback_start = ok (the pages moved out of CMA first)
//   teePin=v2-longterm, teeAccounting=io_uring
//                                          tee_register = ENOMEM (64 MiB > 8 MiB memlock), playback_start = ok
export default defineWorkload({
  name: 'secure-playback',
  description:
    'A TEE client keeps 64 MiB registered while the player allocates a 200 MiB secure buffer',
  machine: {
    memory: '1GiB',
    reserved: '96MiB',
    cma: [{ name: 'svp', size: '256MiB' }],
  },
  kernel: { version: '6.18', teePin: 'upstream', teeAccounting: 'none' },
  params: {
    appsMiB: 560, // background apps' resident memory
    shmMiB: 64, // the TEE client's registered buffer
    bufferMiB: 200, // the secure video buffer
    sessionSeconds: 60, // how long the DRM session keeps the buffer registered
    churnMiB: 4, // background apps allocate and free this much every second
  },
  duration: '10min',
  *main(sys, params) {
    sys.spawn('apps', { uid: 10000 }, function* (p) {
      const apps = yield* p.mmapAnon(`${params.appsMiB}MiB`);
      if (typeof apps === 'string') return;
      yield* p.touch(apps);
      // app churn: a new mapping every second, the oldest unmapped (page cache and heap growth)
      const live = [];
      for (;;) {
        yield p.sleep('1s');
        const b = yield* p.mmapAnon(`${params.churnMiB}MiB`);
        if (typeof b === 'string') continue;
        yield* p.touch(b);
        live.push(b);
        if (live.length > 8) yield* p.munmap(live.shift()!);
      }
    });

    sys.spawn('drm-client', { uid: 1000, memlock: '8MiB' }, function* (p) {
      yield p.sleep('1s');
      const tee = yield* p.open('/dev/tee0');
      if (typeof tee === 'string') return;
      for (;;) {
        const buf = yield* p.mmapAnon(`${params.shmMiB}MiB`);
        if (typeof buf === 'string') return;
        yield* p.touch(buf); // under memory pressure these pages land in CMA
        const shm = yield* p.teeShmRegister(tee, buf);
        sys.record('tee_register', typeof shm === 'string' ? shm : 'ok');
        yield p.sleep(`${params.sessionSeconds}s`);
        if (typeof shm !== 'string') yield* p.close(shm);
        yield* p.munmap(buf);
        yield p.sleep('60s');
      }
    });

    const player = sys.spawn('mediaserver', { uid: 1013 }, function* (p) {
      yield p.sleep('5s');
      let ok = 0;
      let failed = 0;
      for (;;) {
        const fd = yield* p.dmaHeapAlloc('svp', `${params.bufferMiB}MiB`);
        if (ok + failed === 0) sys.record('playback_start', typeof fd === 'string' ? fd : 'ok');
        if (typeof fd === 'string') {
          failed++;
          p.log(`secure buffer allocation failed: ${fd}`);
        } else {
          ok++;
          yield p.sleep('20s'); // a playback session
          yield* p.close(fd);
        }
        sys.record('sessions_ok', ok);
        sys.record('sessions_failed', failed);
        yield p.sleep('30s');
      }
    });
    yield sys.wait(player);
  },
});
