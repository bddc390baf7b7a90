// The comparison table: one row per variant, aggregated over its seeds (issue #7).
import { formatDuration } from '../sim/units.js';
import { median, type RunRecord } from './record.js';

export interface VariantSummary {
  variant: string;
  runs: number;
  errors: number;
  /** per recorded result key: each distinct value (JSON) with the number of runs that had it */
  results: Record<string, Record<string, number>>;
  cma_alloc_success: number;
  cma_alloc_fail: number;
  pgmigrate_success: number;
  memlock_denied: number;
  /** simulated cma_alloc latency: the median of the runs' medians and the worst of all, ns */
  latency_ns: { median: number; max: number } | null;
  /** the first failure with blame, from the lowest seed that had one */
  first_failure: (RunRecord['first_failure'] & { seed: number }) | null;
}

export function summarize(
  records: readonly RunRecord[],
  variants: readonly string[],
): VariantSummary[] {
  return variants.map((variant) => {
    const rs = records
      .filter((r) => r.key.variant === variant)
      .sort((a, b) => a.key.seed - b.key.seed);
    // null prototypes: a result may be named '__proto__' or 'constructor' (by a workload or a shard)
    const results: VariantSummary['results'] = Object.create(null);
    for (const r of rs) {
      for (const [key, v] of Object.entries(r.results)) {
        results[key] ??= Object.create(null);
        const bucket = results[key]!;
        const label = typeof v === 'string' ? v : JSON.stringify(v);
        bucket[label] = (bucket[label] ?? 0) + 1;
      }
    }
    const lats = rs.flatMap((r) => (r.latency_ns ? [r.latency_ns] : []));
    const withFailure = rs.find((r) => r.first_failure);
    return {
      variant,
      runs: rs.length,
      errors: rs.filter((r) => r.error !== undefined).length,
      results,
      cma_alloc_success: rs.reduce((n, r) => n + r.cma_alloc_success, 0),
      cma_alloc_fail: rs.reduce((n, r) => n + r.cma_alloc_fail, 0),
      pgmigrate_success: rs.reduce((n, r) => n + r.pgmigrate_success, 0),
      memlock_denied: rs.reduce((n, r) => n + r.memlock_denied, 0),
      latency_ns: lats.length
        ? { median: median(lats.map((l) => l.median)), max: Math.max(...lats.map((l) => l.max)) }
        : null,
      first_failure: withFailure
        ? { ...withFailure.first_failure!, seed: withFailure.key.seed }
        : null,
    };
  });
}

const distribution = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([v, n]) => `${v}×${n}`)
    .join(' ');

function blameText(f: VariantSummary['first_failure']): string {
  if (!f) return '-';
  const where = f.area ? ` ${f.area}` : '';
  const who = f.blocker
    ? ` ← ${f.blocker.comm}[${f.blocker.pid}] via ${f.blocker.via}${f.blocker.id ? ` #${f.blocker.id}` : ''}`
    : '';
  const pfn = f.blocking_pfn !== undefined ? ` pfn 0x${f.blocking_pfn.toString(16)}` : '';
  return `${f.op}${where} ${f.errno}${pfn}${who} (seed ${f.seed}, t=${formatDuration(f.t)})`;
}

export function textTable(rows: readonly VariantSummary[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(
      `▸ ${r.variant}  (${r.runs} run${r.runs === 1 ? '' : 's'}${r.errors ? `, ${r.errors} failed to run` : ''})`,
    );
    for (const [key, counts] of Object.entries(r.results))
      out.push(`    ${key}: ${distribution(counts)}`);
    out.push(
      `    cma_alloc: ${r.cma_alloc_success} ok, ${r.cma_alloc_fail} failed; pages migrated: ${r.pgmigrate_success}; memlock denials: ${r.memlock_denied}`,
    );
    out.push(
      `    cma_alloc latency (simulated): ${r.latency_ns ? `median ${formatDuration(r.latency_ns.median)}, worst ${formatDuration(r.latency_ns.max)}` : '-'}`,
    );
    out.push(`    first failure: ${blameText(r.first_failure)}`);
  }
  return `${out.join('\n')}\n`;
}

const CSV_COLUMNS = [
  'variant',
  'runs',
  'errors',
  'cma_alloc_success',
  'cma_alloc_fail',
  'pgmigrate_success',
  'memlock_denied',
  'latency_median_ns',
  'latency_max_ns',
  'first_failure',
] as const;

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csvTable(rows: readonly VariantSummary[]): string {
  const resultKeys = [...new Set(rows.flatMap((r) => Object.keys(r.results)))].sort();
  const header = [...CSV_COLUMNS, ...resultKeys.map((k) => `results.${k}`)];
  const lines = rows.map((r) =>
    [
      r.variant,
      r.runs,
      r.errors,
      r.cma_alloc_success,
      r.cma_alloc_fail,
      r.pgmigrate_success,
      r.memlock_denied,
      r.latency_ns?.median ?? '',
      r.latency_ns?.max ?? '',
      blameText(r.first_failure),
      ...resultKeys.map((k) => distribution(r.results[k] ?? {})),
    ].map(csvCell),
  );
  return `${[header, ...lines].map((l) => l.join(',')).join('\r\n')}\r\n`;
}
