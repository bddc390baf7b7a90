// Metric families as text: Prometheus exposition format 0.0.4 and OpenMetrics 1.0.0
// (docs/snapshot.md "prom and openmetrics"). Both end with a newline; OpenMetrics with '# EOF'.
import type { Exporter } from './exporters.js';
import { families, type MetricFamily } from './families.js';
import { seconds, visible } from './fmt.js';
import type { Snapshot } from './snapshot.js';

/** Label values in both formats: backslash, double quote and line feed escaped. */
export const escapeLabel = (v: string): string =>
  v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

/** 0.0.4 HELP: backslash and line feed escaped (a `\"` would be a parse error there). */
const escapeHelpProm = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

/** OpenMetrics HELP is an escaped-string, like label values. */
const escapeHelpOm = escapeLabel;

/** A sample value: integers in decimal, other numbers in JavaScript's shortest round-trip form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function samples(f: MetricFamily): string[] {
  return f.samples.map((s) => {
    const labels = s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    return `${f.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`;
  });
}

/**
 * Prometheus text format 0.0.4: HELP and TYPE before every family, no blank lines. The workload's
 * log lines follow as comments ('# log t=... comm[pid] message'), which the format allows and
 * scrapers ignore; backslash and line feed in them are escaped as in HELP, other control
 * characters written visibly. (Label values keep them: the format has no escape for them.)
 */
export function prometheusText(s: Snapshot): string {
  const out: string[] = [];
  for (const f of families(s)) {
    out.push(`# HELP ${f.name} ${escapeHelpProm(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    out.push(...samples(f));
  }
  const comm = new Map(s.processes.map((p) => [p.pid, p.comm]));
  for (const l of s.logs) {
    const text = `${comm.get(l.pid) ?? '?'}[${l.pid}] ${l.msg}`;
    out.push(`# log t=${seconds(l.t)} ${escapeHelpProm(visible(text, true))}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * OpenMetrics 1.0.0: a counter family is named without _total and its sample with it; # UNIT for
 * _bytes and _seconds families; '# EOF' last. OpenMetrics has no comments, so no log lines.
 */
export function openMetricsText(s: Snapshot): string {
  const out: string[] = [];
  for (const f of families(s)) {
    const name = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out.push(`# HELP ${name} ${escapeHelpOm(f.help)}`, `# TYPE ${name} ${f.type}`);
    if (f.unit) out.push(`# UNIT ${name} ${f.unit}`);
    out.push(...samples(f));
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** The final snapshot only: Prometheus text is a dump, not a stream. */
export function promExporter(render: (s: Snapshot) => string): Exporter {
  return { begin: () => '', snapshot: () => '', end: render, abort: () => '' };
}
