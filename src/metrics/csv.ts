// CSV (RFC 4180), one row per snapshot, for spreadsheets (docs/snapshot.md "csv"). The header
// names every result key any row has, so the whole table is written by end().
import type { Exporter } from './exporter.js';
import { visible } from './fmt.js';
import type { Snapshot } from './snapshot.js';

/** The scalar fields of a CMA area, in the contract's order (free_ranges is not one of them). */
const CMA_FIELDS = [
  'base_pfn',
  'count',
  'order_per_bit',
  'used',
  'maxchunk',
  'total_pages',
  'available_pages',
  'alloc_pages_success',
  'alloc_pages_fail',
  'release_pages_success',
] as const;

/** Joins the log messages of one row. */
export const LOG_SEPARATOR = ' | ';

/**
 * RFC 4180 section 2: quote a field holding a comma, a double quote or LF; double the quotes. Other
 * control characters (a workload's ESC, NUL, CR) are written visibly (fmt.ts visible()).
 */
export function csvField(raw: string): string {
  const text = visible(raw, true);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A value as its cell: numbers, strings and booleans as they print, objects as JSON, none empty. */
function cell(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

type Row = Map<string, string>;

/** The cells of one snapshot, keyed by column name (the value's dotted path in the snapshot). */
function row(s: Snapshot, logs: string): Row {
  const r: Row = new Map();
  r.set('simTimeNs', cell(s.simTimeNs));
  for (const [k, v] of Object.entries(s.meminfo)) r.set(`meminfo.${k}`, cell(v));
  for (const [k, v] of Object.entries(s.vmstat)) r.set(`vmstat.${k}`, cell(v));
  for (const name of Object.keys(s.cma).sort()) {
    const a = s.cma[name]!;
    for (const f of CMA_FIELDS) if (a[f] !== undefined) r.set(`cma.${name}.${f}`, cell(a[f]));
    for (const [k, v] of Object.entries(a.pages_by_state)) {
      r.set(`cma.${name}.pages_by_state.${k}`, cell(v));
    }
  }
  r.set('failures_total', cell(s.failures_total));
  for (const [k, v] of Object.entries(s.results)) r.set(`results.${k}`, cell(v));
  r.set('logs', logs);
  return r;
}

/**
 * Columns: simTimeNs, meminfo.*, vmstat.*, cma.<area>.* (areas by name, fields in the contract's
 * order), failures_total, results.*, logs; within each group in the order rows first have them (a
 * run's machine is fixed, so only results keys come and go). A column a row lacks is empty in it.
 */
function columns(rows: readonly Row[]): string[] {
  const groups: Set<string>[] = [new Set(), new Set(), new Set(), new Set()];
  const group = (k: string) =>
    k === 'failures_total' ? 1 : k.startsWith('results.') ? 2 : k === 'logs' ? 3 : 0;
  for (const r of rows) for (const k of r.keys()) groups[group(k)]!.add(k);
  return groups.flatMap((g) => [...g]);
}

/**
 * Buffers one row per snapshot and writes the table at end(): every interval snapshot, then the
 * final one, which replaces the last interval row when it has the same simTimeNs. Records end
 * with CRLF (RFC 4180 section 2); abort() writes the rows it has. The logs cell holds the messages logged since the previous row.
 */
export function csvExporter(): Exporter {
  const rows: Row[] = [];
  /** log lines seen by each row's snapshot */
  const logCounts: number[] = [];
  let lastTime: number | undefined;
  const add = (s: Snapshot) => {
    const before = logCounts.at(-1) ?? 0;
    const msgs = s.logs.slice(before).map((l) => l.msg);
    rows.push(row(s, msgs.join(LOG_SEPARATOR)));
    logCounts.push(Math.max(before, s.logs.length));
    lastTime = s.simTimeNs;
  };
  const table = () => {
    const cols = columns(rows);
    const line = (cells: string[]) => `${cells.map(csvField).join(',')}\r\n`;
    const out = [line(cols), ...rows.map((r) => line(cols.map((c) => r.get(c) ?? '')))].join('');
    rows.length = 0;
    logCounts.length = 0;
    lastTime = undefined;
    return out;
  };
  return {
    begin: () => '',
    snapshot(s) {
      add(s);
      return '';
    },
    end(final) {
      if (lastTime === final.simTimeNs) {
        rows.pop();
        logCounts.pop();
      }
      add(final);
      return table();
    },
    /** the rows so far (none: nothing, not even the header) */
    abort: () => (rows.length > 0 ? table() : ''),
  };
}
