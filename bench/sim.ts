// The default workload headless, as fast as possible: simulated time per wall time, page events
// per second, and ndjson snapshot serialisation (issue #4).
import type { Policies } from '../src/kernel/config.js';
import { exporter } from '../src/metrics/exporters.js';
import { snapshot } from '../src/metrics/snapshot.js';
import { System } from '../src/workload/api.js';
import { Simulation } from '../src/workload/runtime.js';
import def from '../workloads/secure-playback.js';
import { type Bench, log, median, round } from './figure.js';

const SIM_NS = 600e9; // 10 simulated minutes
const RUNS = 3;

function once(policies: Partial<Policies> = {}): {
  wallMs: number;
  pageEvents: number;
  sim: Simulation;
} {
  const sim = new Simulation({ machine: def.machine as never, seed: 1, policies });
  sim.spawn(def.name, { uid: 0, capIpcLock: true }, (t) =>
    def.main(new System(sim, t), def.params!),
  );
  const t0 = performance.now();
  sim.run(SIM_NS);
  const wallMs = performance.now() - t0;
  const { stats } = sim.k.alloc;
  return { wallMs, pageEvents: stats.pgalloc + stats.pgfree + sim.k.vm.pgmigrate_success, sim };
}

export const simBench: Bench = {
  id: 'sim',
  title: 'the default workload, 10 simulated minutes headless',
  async figures() {
    once(); // warm-up
    const runs = Array.from({ length: RUNS }, () => once());
    const wall = median(runs.map((r) => r.wallMs));
    const events = runs[0]!.pageEvents;
    log(`  ${events} page events in ${wall.toFixed(0)} ms (median of ${RUNS})`);
    const { sim } = runs[0]!;
    const snap = snapshot(
      sim.k,
      { workload: def.name, seed: 1, results: sim.results, logs: sim.logs },
      SIM_NS,
    );
    const exp = exporter('ndjson');
    const n = 20_000;
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += exp.snapshot(snap).length;
    const perS = n / ((performance.now() - t0) / 1000);
    log(`  ndjson: ${n} snapshots, ${(bytes / n).toFixed(0)} bytes each`);
    // allocations of orders 0-3 served from a per-CPU list without refilling it first
    const pcp = once({ placement: 'kernel', pcp: 'on' }).sim.k.alloc.pcp!;
    log(`  pcp=on: ${pcp.hits} list hits, ${pcp.refills} refills`);
    return [
      {
        name: 'pcp_hit_ratio',
        value: round(pcp.hits / (pcp.hits + pcp.refills), 4),
        unit: 'ratio',
        target: 'info',
      },
      {
        name: 'sim_speedup',
        value: round(SIM_NS / 1e6 / wall, 0),
        unit: 'x real time',
        target: '>= 600',
      },
      {
        name: 'page_events_per_s',
        value: round(events / (wall / 1000), 0),
        unit: 'events/s',
        target: '>= 2000000',
      },
      {
        name: 'ndjson_snapshots_per_s',
        value: round(perS, 0),
        unit: 'snapshots/s',
        target: '>= 10000',
      },
    ];
  },
};
