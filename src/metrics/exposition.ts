// Metric families as text: Prometheus exposition format 0.0.4 and OpenMetrics 1.0.0
// (docs/snapshot.md "prom and openmetrics"). Both end with a newline; OpenMetrics with '# EOF'.
import type { Exporter } from './exporter.js';
import { families, type MetricFamily, type Sample } from './families.js';
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

/** A sample's series: its name and labels, as a sample line begins. */
function series(name: string, s: Sample): string {
  const labels = s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
  return `${name}${labels ? `{${labels}}` : ''}`;
}

function samples(f: MetricFamily): string[] {
  return f.samples.map((s) => `${series(f.name, s)} ${formatValue(s.value)}`);
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

/** An OpenMetrics family's metadata: a counter family is named without _total. */
function omFamily(f: MetricFamily): { name: string; header: string[] } {
  const name = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
  const header = [`# HELP ${name} ${escapeHelpOm(f.help)}`, `# TYPE ${name} ${f.type}`];
  if (f.unit) header.push(`# UNIT ${name} ${f.unit}`);
  return { name, header };
}

/**
 * OpenMetrics 1.0.0: a counter family is named without _total and its sample with it; # UNIT for
 * _bytes and _seconds families; '# EOF' last. OpenMetrics has no comments, so no log lines.
 */
export function openMetricsText(s: Snapshot): string {
  const out: string[] = [];
  for (const f of families(s)) out.push(...omFamily(f).header, ...samples(f));
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** The final snapshot only: Prometheus text is a dump, not a stream. */
export function promExporter(render: (s: Snapshot) => string): Exporter {
  return { begin: () => '', snapshot: () => '', end: render, abort: () => '' };
}

/** Simulated t = 0 in the timestamps of a series: 2023-01-01T00:00:00Z, in Unix seconds. */
export const EPOCH_S = 1_672_531_200;

/** An OpenMetrics timestamp: Unix seconds, the simulated time after EPOCH_S to the nanosecond. */
export function omTimestamp(simTimeNs: number): string {
  const ns = Math.round(simTimeNs);
  const s = Math.floor(ns / 1e9);
  const frac = String(ns - s * 1e9)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${EPOCH_S + s}${frac ? `.${frac}` : ''}`;
}

/**
 * OpenMetrics of every snapshot of a run (--interval), each sample timestamped, for
 * `promtool tsdb create-blocks-from openmetrics`: OpenMetrics wants each family once and the
 * samples of a series together in time order, so nothing is written before the end. The
 * final-snapshot rule of json and csv applies.
 */
export function openMetricsSeriesExporter(): Exporter {
  /** family name → its metadata, and each series (name and labels) → its sample lines */
  const fams = new Map<string, { header: string[]; series: Map<string, string[]> }>();
  /** the last interval snapshot: the final one replaces it when both have the same time */
  let last: Snapshot | undefined;
  /** the family names in the order families() gives them, those seen in any snapshot */
  const order: string[] = [];
  const add = (s: Snapshot) => {
    const ts = omTimestamp(s.simTimeNs);
    let previous: string | undefined;
    for (const f of families(s)) {
      const { name, header } = omFamily(f);
      let fam = fams.get(name);
      if (!fam) {
        fam = { header, series: new Map<string, string[]>() };
        fams.set(name, fam);
        order.splice(previous === undefined ? 0 : order.indexOf(previous) + 1, 0, name);
      }
      previous = name;
      for (const x of f.samples) {
        const key = series(f.name, x);
        const lines = fam.series.get(key) ?? [];
        lines.push(`${key} ${formatValue(x.value)} ${ts}`);
        fam.series.set(key, lines);
      }
    }
  };
  const render = () => {
    const out: string[] = [];
    for (const name of order) {
      const fam = fams.get(name)!;
      out.push(...fam.header);
      for (const lines of fam.series.values()) out.push(...lines);
    }
    out.push('# EOF');
    return `${out.join('\n')}\n`;
  };
  return {
    begin: () => '',
    snapshot(s) {
      if (last) add(last);
      last = s;
      return '';
    },
    end(final) {
      if (last && last.simTimeNs !== final.simTimeNs) add(last);
      add(final);
      return render();
    },
    abort() {
      if (last) add(last);
      return fams.size > 0 ? render() : '';
    },
  };
}
