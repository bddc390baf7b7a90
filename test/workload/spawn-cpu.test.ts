// spawn(comm, cred, body, { cpu }): the CPU a process runs on, so the per-CPU page lists
// (policy pcp=on) that serve its allocations; by default pid % cpus.
import { describe, expect, it } from 'vitest';
import { type Actor, System } from '../../src/workload/api.js';
import { Simulation } from '../../src/workload/runtime.js';

const MOVABLE_ORDER0 = 1; // order_to_pindex(MIGRATE_MOVABLE, 0)

/**
 * 64 MiB, 4 CPUs, pcp=on: zone_batchsize() = 3, so a process's first anonymous page refills its
 * CPU's MOVABLE order-0 list with 3 pages and takes one, which its exit frees back to that list.
 * `main` (pid 100, CPU 0) spawns; the length of each CPU's MOVABLE order-0 list after the run.
 */
function run(main: (sys: System) => void): number[] {
  const sim = new Simulation({
    version: '6.18',
    policies: { placement: 'kernel', pcp: 'on' },
    machine: { memory: '64MiB', dramBase: 0, minFree: 0, cpus: 4 },
  });
  sim.spawn('main', { uid: 0 }, function* (t) {
    main(new System(sim, t));
    yield* [];
  });
  sim.run();
  const pcp = sim.k.alloc.pcp!;
  return [0, 1, 2, 3].map((cpu) => {
    let n = 0;
    for (
      let p = pcp.lists.head(pcp.listBase(0, cpu) + MOVABLE_ORDER0);
      p >= 0;
      p = pcp.lists.after(p)
    )
      n++;
    return n;
  });
}

const oneAnonPage: Actor = function* (p) {
  const buf = yield* p.mmapAnon('4KiB');
  if (typeof buf !== 'string') yield* p.touch(buf);
};

describe('spawn(..., { cpu })', () => {
  it('by default a process runs on CPU pid % cpus', () => {
    // pids 101 and 102: CPUs 1 and 2
    expect(
      run((sys) => [sys.spawn('a', {}, oneAnonPage), sys.spawn('b', {}, oneAnonPage)]),
    ).toEqual([0, 3, 3, 0]);
  });

  it('runs the process, and what it forks, on the CPU given', () => {
    // pid 101 pinned to CPU 3; pid 102 on 102 % 4 = 2
    expect(
      run((sys) => [sys.spawn('a', {}, oneAnonPage, { cpu: 3 }), sys.spawn('b', {}, oneAnonPage)]),
    ).toEqual([0, 0, 3, 3]);
    // a child forked by a process pinned to CPU 0 (the child is pid 102: CPU 2 by default) stays
    // on CPU 0: its page comes from the list the parent's page refilled, and CPU 2's stays empty
    expect(
      run((sys) => {
        sys.spawn(
          'a',
          {},
          function* (p) {
            yield* oneAnonPage(p);
            yield p.fork('child', oneAnonPage);
          },
          { cpu: 0 },
        );
      }),
    ).toEqual([3, 0, 0, 0]);
  });
});
