// A small real run for the exporter tests: platform P (kernel-model.md §7.0), a TEE client registering 64 MiB
// under teePin=upstream, and a player whose 200 MiB secure heap allocation fails on the pinned
// pages (C7, as test/fidelity/pins-seed.test.ts). Interval snapshots every 2 s up to 20 s;
// the run is over by then (the TEE client closes its shm at about 10 s), so the final snapshot has
// the last interval snapshot's simTimeNs.
import type { KernelVersion, Policies } from '../../src/kernel/config.js';
import { exporter, type Format } from '../../src/metrics/exporters.js';
import { type Snapshot, snapshot } from '../../src/metrics/snapshot.js';
import { type Buf, type Shm, System } from '../../src/workload/api.js';
import { Simulation } from '../../src/workload/runtime.js';
import { LOWEST_PFN, machineP } from '../helpers.js';

export const WORKLOAD = 'exporters-fixture';
export const SEED = 7;
const S = 1_000_000_000;

export interface Run {
  sim: Simulation;
  intervals: Snapshot[];
  final: Snapshot;
}

export function run(
  opts: {
    version?: KernelVersion;
    policies?: Partial<Policies>;
    /** interval snapshots every `everyNs` up to `untilNs` (default every 2 s up to 20 s) */
    everyNs?: number;
    untilNs?: number;
  } = {},
): Run {
  const untilNs = opts.untilNs ?? 20 * S;
  const sim = new Simulation({
    version: opts.version ?? '6.18',
    // C7 on platform P, its blocking page at B: the lowest-PFN placement, no per-CPU lists
    policies: { ...LOWEST_PFN, ...(opts.policies ?? { teePin: 'upstream' }) },
    machine: machineP(),
    seed: SEED,
  });
  const take = () =>
    snapshot(
      sim.k,
      { workload: WORKLOAD, seed: SEED, results: sim.results, logs: sim.logs },
      sim.engine.now,
    );
  sim.spawn('tee-client', { uid: 1000 }, function* (t) {
    const p = new System(sim, t);
    const buf = (yield* p.mmapAnon('64MiB')) as Buf;
    yield* p.touch(buf);
    const tee = (yield* p.open('/dev/tee0')) as number;
    const shm = yield* p.teeShmRegister(tee, buf);
    p.record('shm', shm);
    if (typeof shm === 'string') return p.log(`register: ${shm}`); // C24: over RLIMIT_MEMLOCK
    p.log('registered 64 MiB');
    yield p.sleep('10s');
    yield* p.close(shm as Shm);
    p.log('closed "shm", released');
  });
  sim.spawn('player', { uid: 1001, memlock: 'unlimited' }, function* (t) {
    const sys = new System(sim, t);
    yield sys.sleep('5s');
    const r = yield* sys.dmaHeapAlloc('svp', '200MiB');
    sys.record('playback_start', r);
    sys.record('buffer_mib', 200);
    sys.log(`first allocation: ${String(r)}`);
  });
  const intervals: Snapshot[] = [];
  const every = opts.everyNs ?? 2 * S;
  for (let t = every; t <= untilNs; t += every) {
    sim.run(t);
    intervals.push(take());
  }
  sim.run();
  return { sim, intervals, final: take() };
}

/** What the CLI writes: begin(), snapshot() for every interval snapshot, end(final). */
export function emit(format: Format, r: Pick<Run, 'intervals' | 'final'>): string {
  const e = exporter(format);
  let out = e.begin();
  for (const s of r.intervals) out += e.snapshot(s);
  return out + e.end(r.final);
}

let cached: Run | undefined;
/** The default run, shared by the tests of a file (exporters must not modify snapshots). */
export const defaultRun = (): Run => {
  cached ??= run();
  return cached;
};
