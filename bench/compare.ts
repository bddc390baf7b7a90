// compare's worker pool: `cmascope compare --thread --seeds 1..50` (4 variants × 50 seeds of the
// default workload) on one worker and on every core; the speed-up should follow the number of
// cores (issue #7). Runs the built binary, as a user would.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type Bench, log, repoRoot, round } from './figure.js';

const RUNS = 4 * 50;

export const compareBench: Bench = {
  id: 'compare',
  title: 'compare --thread, 4 variants × 50 seeds, 1 worker vs all cores',
  async figures() {
    const root = repoRoot();
    const cores = availableParallelism();
    const time = (workers: number) => {
      const t0 = performance.now();
      execFileSync(
        process.execPath,
        [
          join(root, 'bin/cmascope.js'),
          'compare',
          '--thread',
          '--seeds',
          '1..50',
          '--workers',
          String(workers),
        ],
        { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] },
      );
      return (performance.now() - t0) / 1000;
    };
    const one = time(1);
    const all = time(cores);
    log(`  ${RUNS} runs: ${one.toFixed(1)} s on 1 worker, ${all.toFixed(1)} s on ${cores}`);
    return [
      {
        name: 'compare_parallel_speedup',
        value: round(one / all, 2),
        unit: `x on ${cores} cores`,
        target: `>= ${round(0.8 * cores, 1)}`,
      },
      { name: 'compare_runs_per_s', value: round(RUNS / all, 1), unit: 'runs/s', target: 'info' },
    ];
  },
};
