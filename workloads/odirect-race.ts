import { defineWorkload } from 'cmascope';

// O_DIRECT short-term pins racing a CMA heap allocation (kernel-model.md §4.7, §3.4, §6 items 2–3).
//
// A 1 GiB set-top box with a 256 MiB CMA area 'svp'. A recorder writes the stream to eMMC with
// O_DIRECT from a 64 MiB buffer that the CMA-first rule placed in 'svp' (background apps fill
// normal memory first). Each write pins the buffer short-term (FOLL_PIN on 6.18, FOLL_GET on 6.4)
// for `ioMs` (64 MiB at 64 MB/s); the recorder pauses `gapMs` between writes. The first write
// starts at t = 1 s; 50 ms later the player asks the 'svp' heap for its 200 MiB secure buffer.
// Every one of the 57 windows holds pinned pages (64 MiB > 256 − 200 = 56 MiB), so each pass over
// them fails with -EBUSY while the write is in flight.
//
// Upstream `cma_alloc` gives up after one pass over the windows; Android's GKI kernel rescans
// after 100 ms sleeps, up to 10 times, and gets the area once the write has completed. The pins
// are short-term whatever teePin says (no TEE is involved), so the TEE policies change nothing.
//
// Parameters:
//   appsMiB      background apps' resident anonymous memory
//   ioMiB        the O_DIRECT buffer, in CMA
//   ioMs         how long each write keeps the buffer pinned
//   gapMs        the pause between two writes
//   bufferMiB    the secure video buffer
//
// Expected outcome (the same under every teePin / teeAccounting):
//   cmaRetry=upstream (default)   playback_start = ENOMEM after one pass (alloc_ms = 841), while the
//                                 write is in flight (io_in_flight_at_result = true);
//                                 blame: recorder via o_direct
//   cmaRetry=android              playback_start = ok (alloc_ms = 1129): passes 100 ms apart fail
//                                 until the write completes at t = 2 s, the next one succeeds
//                                 (io_in_flight_at_result = false, writes_done_at_result = 1)
export default defineWorkload({
  name: 'odirect-race',
  description: 'An O_DIRECT write in flight against a 200 MiB CMA heap allocation',
  machine: {
    memory: '1GiB',
    reserved: '96MiB',
    cma: [{ name: 'svp', size: '256MiB' }],
  },
  kernel: { version: '6.18', cmaRetry: 'upstream' },
  params: {
    appsMiB: 560,
    ioMiB: 64,
    ioMs: 1000,
    gapMs: 500,
    bufferMiB: 200,
  },
  duration: '5s',
  *main(sys, params) {
    sys.spawn('apps', { uid: 10000 }, function* (p) {
      const apps = yield* p.mmapAnon(`${params.appsMiB}MiB`);
      if (typeof apps === 'string') return sys.record('apps', apps);
      yield* p.touch(apps);
      yield p.sleep('1h');
    });

    let inFlight = false;
    let writes = 0;
    sys.spawn('recorder', { uid: 1041 }, function* (p) {
      yield p.sleep('500ms');
      const buf = yield* p.mmapAnon(`${params.ioMiB}MiB`);
      if (typeof buf === 'string') return sys.record('io', buf);
      yield* p.touch(buf); // lands in 'svp': free CMA > free normal memory by now
      yield p.sleep(1e9 - sys.now()); // the first write starts at t = 1 s
      for (;;) {
        inFlight = true;
        const r = yield* p.directIo(buf, { duration: `${params.ioMs}ms`, read: false });
        inFlight = false;
        writes++;
        if (typeof r === 'string') return sys.record('io', r);
        yield p.sleep(`${params.gapMs}ms`);
      }
    });

    const player = sys.spawn('mediaserver', { uid: 1013 }, function* (p) {
      yield p.sleep('1050ms'); // 50 ms into the first write
      const t0 = sys.now();
      const fd = yield* p.dmaHeapAlloc('svp', `${params.bufferMiB}MiB`);
      sys.record('playback_start', typeof fd === 'string' ? fd : 'ok');
      sys.record('alloc_ms', Math.round((sys.now() - t0) / 1e6));
      sys.record('io_in_flight_at_result', inFlight);
      sys.record('writes_done_at_result', writes);
      if (typeof fd !== 'string') {
        yield p.sleep('2s'); // play
        yield* p.close(fd);
      }
    });
    yield sys.wait(player);
  },
});
