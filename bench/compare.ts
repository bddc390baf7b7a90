// compare's worker pool against the machine (issue #15): the same runs, the thread's 4 variants
// × SEEDS seeds of the default workload, made four ways in one bench run: by `cmascope compare
// --thread` on 1 worker and on N (every core), and as independent `cmascope run` processes one
// after another and N at a time. compare_pool_efficiency is the pool's speed-up over the
// processes' speed-up: what the pool loses to its own costs (result merging on the main thread,
// per-run start-up, messages), whatever the machine's cores and load allow.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { THREAD_VARIANTS } from '../src/compare/plan.js';
import { type Bench, log, repoRoot, round } from './figure.js';

const SEEDS = 10;
const RUNS = THREAD_VARIANTS.length * SEEDS;

/** Run `node bin/cmascope.js ...args`; resolves once it exited 0, rejects otherwise. */
function cmascope(root: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, 'bin/cmascope.js'), ...args], {
      cwd: root,
      stdio: 'ignore',
    });
    p.on('error', reject);
    p.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`cmascope ${args.join(' ')}: ${signal ?? code}`)),
    );
  });
}

/** Wall seconds to run every command line of `jobs`, `lanes` at a time. */
async function timeLanes(root: string, jobs: readonly string[][], lanes: number): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) await cmascope(root, jobs[next++]!);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  return (performance.now() - t0) / 1000;
}

export const compareBench: Bench = {
  id: 'compare',
  title: `compare --thread (${RUNS} runs) on 1 worker vs all cores, against as many cmascope runs`,
  async figures() {
    const root = repoRoot();
    const n = availableParallelism();
    const pool = (workers: number) =>
      timeLanes(
        root,
        [['compare', '--thread', '--seeds', `1..${SEEDS}`, '--workers', String(workers)]],
        1,
      );
    // the pool's runs as `cmascope run` command lines, variant by variant as compare plans them
    const runs = THREAD_VARIANTS.flatMap((v) =>
      Array.from({ length: SEEDS }, (_, i) => [
        'run',
        '--policy',
        v,
        '--seed',
        String(i + 1),
        '-f',
        'json',
      ]),
    );
    const pool1 = await pool(1);
    const poolN = await pool(n);
    const seq = await timeLanes(root, runs, 1);
    const par = await timeLanes(root, runs, n);
    log(
      `  pool: ${pool1.toFixed(1)} s on 1 worker, ${poolN.toFixed(1)} s on ${n}; ` +
        `${RUNS} cmascope run: ${seq.toFixed(1)} s one after another, ${par.toFixed(1)} s ${n} at a time`,
    );
    const poolSpeedup = pool1 / poolN;
    const procSpeedup = seq / par;
    return [
      {
        name: 'compare_pool_efficiency',
        value: round(poolSpeedup / procSpeedup, 2),
        unit: `x of ${round(procSpeedup, 2)}`,
        target: '>= 0.9',
      },
      {
        name: 'compare_parallel_speedup',
        value: round(poolSpeedup, 2),
        unit: `x on ${n} cores`,
        target: 'info',
      },
      { name: 'compare_runs_per_s', value: round(RUNS / poolN, 1), unit: 'runs/s', target: 'info' },
    ];
  },
};
