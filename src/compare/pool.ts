// Run planned runs in a pool of worker threads, one run per worker, as many at once as cores.
import { availableParallelism } from 'node:os';
import { errorLine } from '../workload/errors.js';
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

/** The request of one planned run. */
export function request(opts: PoolOptions, run: PlannedRun): RunRequest {
  const v = opts.variants[run.variant]!;
  const req: RunRequest = { ...opts.base, seed: run.seed, policies: v.policies };
  if (v.version) req.version = v.version;
  return req;
}

export async function runPool(
  runs: readonly PlannedRun[],
  opts: PoolOptions,
): Promise<RunRecord[]> {
  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), runs.length));
  const records: RunRecord[] = [];
  let next = 0;
  const one = async (run: PlannedRun): Promise<RunRecord> => {
    let workload = ''; // the hash, also for a run that fails after loading
    const o = await startRun(request(opts, run), {
      ...(opts.watchdogMs === undefined ? {} : { watchdogMs: opts.watchdogMs }),
      onMessage: (m) => {
        if (m.type === 'loaded') workload = m.hash;
      },
    }).done;
    const key = {
      workload,
      variant: opts.variants[run.variant]!.name,
      variant_index: run.variant,
      seed: run.seed,
    };
    return o.ok ? recordOf(key, o.final, o.stats) : errorRecord(key, errorLine(o.error));
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
