// The comparison table: one row per variant, aggregated over its seeds (issue #7).
import { seconds } from '../metrics/fmt.js';
import { formatDuration } from '../sim/units.js';
import { median, type RunRecord } from './record.js';

export interface VariantSummary {
  variant: string;
  runs: number;
  errors: number;
  /** per recorded result key: each distinct value (JSON) with the number of runs that had it */
  results: Record<string, Record<string, number>>;
  /** per result key whose every value is a number: its distribution over the runs */
  stats: Record<string, Stats>;
  /** the seeds whose run recorded a failure or failed to run, to rerun with `run --seed` */
  failing_seeds: number[];
  cma_alloc_success: number;
  cma_alloc_fail: number;
  pgmigrate_success: number;
  memlock_denied: number;
  /** simulated cma_alloc latency: the median of the runs' medians and the worst of all, ns */
  latency_ns: { median: number; max: number } | null;
  /** the first failure with blame, from the lowest seed that had one */
  first_failure: (RunRecord['first_failure'] & { seed: number }) | null;
}

export interface Stats {
  n: number;
  min: number;
  median: number;
  /** nearest rank: the smallest value at least 90 % of the runs are at or below */
  p90: number;
  max: number;
}

function statsOf(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0]!,
    median: median(s),
    p90: s[Math.ceil(0.9 * s.length) - 1]!,
    max: s[s.length - 1]!,
  };
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
    const stats: VariantSummary['stats'] = Object.create(null);
    for (const key of Object.keys(results)) {
      const values = rs.flatMap((r) => (Object.hasOwn(r.results, key) ? [r.results[key]] : []));
      if (values.every((v) => typeof v === 'number')) stats[key] = statsOf(values as number[]);
    }
    const lats = rs.flatMap((r) => (r.latency_ns ? [r.latency_ns] : []));
    const withFailure = rs.find((r) => r.first_failure);
    return {
      variant,
      runs: rs.length,
      errors: rs.filter((r) => r.error !== undefined).length,
      results,
      stats,
      failing_seeds: rs
        .filter((r) => r.error !== undefined || r.first_failure !== null)
        .map((r) => r.key.seed),
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

/** A result over the runs: its values when few, else n, min, median, p90 and max. */
function resultText(counts: Record<string, number>, st: Stats | undefined): string {
  if (!st || Object.keys(counts).length <= 3) return distribution(counts);
  return `n=${st.n} min ${st.min} median ${st.median} p90 ${st.p90} max ${st.max}`;
}

/** Seeds as runs of consecutive ones: [1,2,3,5] → '1..3,5' (what --seeds takes). */
function seedList(seeds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seeds.length; ) {
    let j = i;
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j]! + 1) j++;
    parts.push(j > i ? `${seeds[i]}..${seeds[j]}` : String(seeds[i]));
    i = j + 1;
  }
  return parts.join(',');
}

function blameText(f: VariantSummary['first_failure']): string {
  if (!f) return '-';
  const where = f.area ? ` ${f.area}` : '';
  const who = f.blocker
    ? ` ← ${f.blocker.comm}[${f.blocker.pid}] via ${f.blocker.via}${f.blocker.id ? ` #${f.blocker.id}` : ''}`
    : '';
  const pfn = f.blocking_pfn !== undefined ? ` pfn 0x${f.blocking_pfn.toString(16)}` : '';
  return `${f.op}${where} ${f.errno}${pfn}${who} (seed ${f.seed}, t=${seconds(f.t)})`;
}

export function textTable(rows: readonly VariantSummary[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(
      `▸ ${r.variant}  (${r.runs} run${r.runs === 1 ? '' : 's'}${r.errors ? `, ${r.errors} failed to run` : ''})`,
    );
    for (const [key, counts] of Object.entries(r.results))
      out.push(`    ${key}: ${resultText(counts, r.stats[key])}`);
    out.push(
      `    cma_alloc: ${r.cma_alloc_success} ok, ${r.cma_alloc_fail} failed; pages migrated: ${r.pgmigrate_success}; memlock denials: ${r.memlock_denied}`,
    );
    out.push(
      `    cma_alloc latency (simulated): ${r.latency_ns ? `median ${formatDuration(r.latency_ns.median)}, worst ${formatDuration(r.latency_ns.max)}` : '-'}`,
    );
    out.push(`    first failure: ${blameText(r.first_failure)}`);
    if (r.failing_seeds.length > 0 && r.runs > 1)
      out.push(`    failing seeds: ${seedList(r.failing_seeds)} (of ${r.runs})`);
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
