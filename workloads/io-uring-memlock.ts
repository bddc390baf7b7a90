import { defineWorkload, type Process } from 'cmascope';

// io_uring fixed buffers of several processes of one user against RLIMIT_MEMLOCK (kernel-model.md §4.6,
// C20; C24 for the last step).
//
// io_uring charges registered buffers to `user->locked_vm`, which every process of a uid shares,
// and checks it against the registering task's RLIMIT_MEMLOCK (8 MiB, 2048 pages, here). Three
// media processes each set up a ring and register fixed buffers, one second apart:
//
//   t=1s  p1 (uid 1000) registers `p1MiB`         ok; user(1000).locked_vm = 1536 pages
//   t=2s  p2 (uid 1000) registers `p2MiB`         1536 + 1024 > 2048: ENOMEM (p2's VmPin stays 0)
//   t=3s  p3 (uid 1001) registers `p3MiB`         ok: another user, another user_struct
//   t=4s  p1 unregisters; p2 retries (t=5s)       ok; user(1000).locked_vm = 1024
//   t=6s  a DRM client (uid 1000) registers `teeMiB` with the TEE
//
// The last step is where the TEE policies differ: upstream and v2 TEE registration account
// nothing, so it succeeds however much uid 1000 has locked; with io_uring-style TEE accounting
// (teeAccounting=io_uring, C24) it is charged to the same `user->locked_vm` as io_uring's buffers:
// 1024 + 1536 > 2048, ENOMEM.
//
// Parameters: p1MiB, p2MiB, p3MiB, teeMiB (buffer sizes), memlock (every process's limit).
//
// Expected outcome (results p1_register … tee_register):
//   teePin=upstream            p1 ok, p2 ENOMEM, p3 ok, p1_unregister ok, p2_retry ok, tee ok;
//                              users.1000.locked_vm = 1024 at the end
//   teePin=v2-longterm         the same
//   teePin=v2-longterm, teeAccounting=io_uring
//                              the same, except tee_register = ENOMEM
export default defineWorkload({
  name: 'io-uring-memlock',
  description: 'io_uring fixed buffers of three processes against a per-user RLIMIT_MEMLOCK',
  machine: { memory: '512MiB', reserved: '64MiB' }, // no CMA: this is about accounting only
  kernel: { version: '6.18', teePin: 'upstream', teeAccounting: 'none' },
  params: {
    p1MiB: 6,
    p2MiB: 4,
    p3MiB: 6,
    teeMiB: 6,
    memlock: '8MiB',
  },
  duration: '10s',
  *main(sys, params) {
    const cred = (uid: number) => ({ uid, memlock: params.memlock });
    const result = (r: unknown) => (typeof r === 'string' ? r : 'ok');

    /** A process with one ring and one touched buffer of `mib`, registered at `at`. */
    function* registered(p: Process, mib: number, at: string) {
      const ring = yield* p.ioUringSetup();
      const buf = yield* p.mmapAnon(`${mib}MiB`);
      if (typeof ring === 'string' || typeof buf === 'string') return undefined;
      yield* p.touch(buf);
      yield p.sleep(at);
      return { ring, buf, rc: yield* p.ioUringRegisterBuffers(ring, [buf]) };
    }

    sys.spawn('p1', cred(1000), function* (p) {
      const r = yield* registered(p, params.p1MiB, '1s');
      if (!r) return sys.record('p1_register', 'setup failed');
      sys.record('p1_register', result(r.rc));
      yield p.sleep('3s'); // t = 4 s
      sys.record('p1_unregister', result(yield* p.ioUringUnregisterBuffers(r.ring)));
      yield p.sleep('1h');
    });

    sys.spawn('p2', cred(1000), function* (p) {
      const r = yield* registered(p, params.p2MiB, '2s');
      if (!r) return sys.record('p2_register', 'setup failed');
      sys.record('p2_register', result(r.rc));
      yield p.sleep('3s'); // t = 5 s: after p1 let go
      sys.record('p2_retry', result(yield* p.ioUringRegisterBuffers(r.ring, [r.buf])));
      yield p.sleep('1h');
    });

    sys.spawn('p3', cred(1001), function* (p) {
      const r = yield* registered(p, params.p3MiB, '3s');
      sys.record('p3_register', r ? result(r.rc) : 'setup failed');
      yield p.sleep('1h');
    });

    const drm = sys.spawn('drm-client', cred(1000), function* (p) {
      const tee = yield* p.open('/dev/tee0');
      const buf = yield* p.mmapAnon(`${params.teeMiB}MiB`);
      if (typeof tee === 'string' || typeof buf === 'string') return;
      yield* p.touch(buf);
      yield p.sleep('6s');
      sys.record('tee_register', result(yield* p.teeShmRegister(tee, buf)));
      yield p.sleep('1h');
    });
    yield sys.wait(drm);
  },
});
