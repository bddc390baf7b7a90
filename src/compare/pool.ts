// Run planned runs in a pool of worker threads, one run per worker, as many at once as cores.
import { availableParallelism } from 'node:os';
import { startRun } from '../workload/loader.js';
import type { RunRequest } from '../workload/protocol.js';
import type { PlannedRun, Variant } from './plan.js';
import { errorRecord, type RunRecord, recordOf } from './record.js';

export interface PoolOptions {
  /** the request every run starts from (file, params, --until, ...) */
  base: Omit<RunRequest, 'seed' | 'policies'>;
  variants: readonly Variant[];
  workers?: number;
  watchdogMs?: number;
  onRecord?: (r: RunRecord) => void;
}

export async function runPool(
  runs: readonly PlannedRun[],
  opts: PoolOptions,
): Promise<RunRecord[]> {
  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), runs.length));
  const records: RunRecord[] = [];
  let next = 0;
  const one = async (run: PlannedRun): Promise<RunRecord> => {
    const v = opts.variants[run.variant]!;
    const req: RunRequest = { ...opts.base, seed: run.seed, policies: v.policies };
    if (v.version) req.version = v.version;
    const o = await startRun(
      req,
      opts.watchdogMs === undefined ? {} : { watchdogMs: opts.watchdogMs },
    ).done;
    const key = {
      workload: o.ok ? o.hash : '',
      variant: v.name,
      variant_index: run.variant,
      seed: run.seed,
    };
    return o.ok ? recordOf(key, o.final, o.stats) : errorRecord(key, o.error.message);
  };
  const lane = async () => {
    while (next < runs.length) {
      const r = await one(runs[next++]!);
      records.push(r);
      opts.onRecord?.(r);
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return records;
}
