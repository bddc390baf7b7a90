// One run of a comparison as one JSONL record, keyed by (workload hash, variant, seed).
import type { Failure } from '../kernel/observe/blame.js';
import type { Snapshot } from '../metrics/snapshot.js';
import type { RunStats } from '../workload/protocol.js';

export interface RunKey {
  /** hash of the bundled workload (it and everything it imports) */
  workload: string;
  variant: string;
  /** the variant's position on the command line: tables keep that order */
  variant_index: number;
  seed: number;
}

export interface RunRecord {
  key: RunKey;
  results: Record<string, unknown>;
  cma_alloc_success: number;
  cma_alloc_fail: number;
  pgmigrate_success: number;
  memlock_denied: number;
  /** simulated cma_alloc latency of this run: median and worst, ns (null: no cma_alloc) */
  latency_ns: { median: number; max: number } | null;
  /** the first failure that names a blocker, else the first failure */
  first_failure: Failure | null;
  /** the run itself failed (the workload threw, or the watchdog stopped it) */
  error?: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function recordOf(key: RunKey, final: Snapshot, stats: RunStats): RunRecord {
  const lat = stats.cmaLatenciesNs;
  return {
    key,
    results: final.results,
    cma_alloc_success: final.vmstat.cma_alloc_success,
    cma_alloc_fail: final.vmstat.cma_alloc_fail,
    pgmigrate_success: final.vmstat.pgmigrate_success,
    memlock_denied: final.processes.reduce((n, p) => n + p.memlock_denied, 0),
    latency_ns: lat.length ? { median: median(lat), max: Math.max(...lat) } : null,
    first_failure: final.failures.find((f) => f.blocker) ?? final.failures[0] ?? null,
  };
}

export function errorRecord(key: RunKey, message: string): RunRecord {
  return {
    key,
    results: {},
    cma_alloc_success: 0,
    cma_alloc_fail: 0,
    pgmigrate_success: 0,
    memlock_denied: 0,
    latency_ns: null,
    first_failure: null,
    error: message,
  };
}

/** Records in key order: variant as given, then seed. */
export function sortRecords(records: readonly RunRecord[]): RunRecord[] {
  return [...records].sort(
    (a, b) => a.key.variant_index - b.key.variant_index || a.key.seed - b.key.seed,
  );
}

/** The variants of a set of records, in their command-line order. */
export function variantsOf(records: readonly RunRecord[]): string[] {
  return [
    ...new Map(sortRecords(records).map((r) => [r.key.variant_index, r.key.variant])).values(),
  ];
}
