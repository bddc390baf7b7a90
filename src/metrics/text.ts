// A plain-text report of one snapshot for a terminal or a CI log: no colour, no locale, fixed
// widths computed from the content (docs/snapshot.md "text").

import { PAGE_SIZE } from '../sim/units.js';
import { chargedByText, memlockText, windowsText } from './blame-text.js';
import type { Exporter } from './exporter.js';
import { hex, seconds, size, table, visible } from './fmt.js';
import type { Snapshot } from './snapshot.js';

/** Free ranges listed per area before '(+N more)'. */
export const FREE_RANGES_SHOWN = 8;
/** Blocking pfns listed under a failure before '...'. */
const BLOCKING_PFNS_SHOWN = 4;

type Failure = Snapshot['failures'][number];

/**
 * One failure on one line, the blame first:
 * 't=5.025s cma_alloc svp 51200 pages EBUSY: pfn 0xe0000 held by tee-client[100] via tee_shm id 1'.
 */
export function failureLine(f: Failure): string {
  let line = `t=${seconds(f.t)} ${f.op}`;
  if (f.area !== undefined) line += ` ${visible(f.area)}`;
  if (f.count !== undefined) line += ` ${f.count} pages`;
  line += ` ${f.errno}`;
  if (f.memlock !== undefined) line += `: ${memlockText(f.memlock, f.pid)}`;
  if (f.blocking_pfn !== undefined) {
    line += `: pfn ${hex(f.blocking_pfn)}`;
    const b = f.blocker;
    if (b)
      line += ` held by ${visible(b.comm)}[${b.pid}] via ${b.via}${b.id === undefined ? '' : ` id ${b.id}`}`;
  }
  return line;
}

/**
 * The second line under a failure: who asked, the windows tried, who charged the memlock counter,
 * the other blocking pages.
 */
function failureDetail(f: Failure, comm: (pid: number) => string): string | undefined {
  const parts: string[] = [];
  if (f.pid !== undefined) parts.push(`caller ${comm(f.pid)}`);
  if (f.windows !== undefined) parts.push(windowsText(f.windows));
  if (f.memlock?.chargedBy.length) parts.push(`charged by ${chargedByText(f.memlock)}`);
  const pfns = f.blocking_pfns ?? [];
  if (pfns.length > 1) {
    const shown = pfns.slice(0, BLOCKING_PFNS_SHOWN).map(hex).join(' ');
    parts.push(
      `${pfns.length} blocking pfns: ${shown}${pfns.length > BLOCKING_PFNS_SHOWN ? ' ...' : ''}`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** A multi-line text from the workload: its control characters visible, its lines indented. */
const indentLines = (text: string, pad: string) => visible(text, true).replaceAll('\n', `\n${pad}`);

/** The report: run, CMA areas, meminfo, vmstat, processes, users, failures, results, logs. */
export function textReport(s: Snapshot): string {
  const out: string[] = [];
  const names = new Map(s.processes.map((p) => [p.pid, visible(p.comm)]));
  const comm = (pid: number) => `${names.get(pid) ?? (pid === 0 ? 'kernel' : '?')}[${pid}]`;
  const { version, ...policies } = s.kernel;

  out.push(`cmascope report (schema ${s.schema})`);
  out.push(`workload  ${visible(s.workload)}  seed ${s.seed}`);
  out.push(
    `kernel    ${version}  ${Object.entries(policies)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
  );
  out.push(`sim time  ${seconds(s.simTimeNs)}`);

  for (const name of Object.keys(s.cma).sort()) {
    const a = s.cma[name]!;
    out.push('', `CMA area ${visible(name)}`);
    out.push(
      `  base_pfn ${hex(a.base_pfn)} (phys ${hex(a.base_pfn * PAGE_SIZE)})  count ${a.count} pages (${size(a.count * PAGE_SIZE)})  order_per_bit ${a.order_per_bit}`,
    );
    out.push(`  used ${a.used}  available ${a.available_pages}  maxchunk ${a.maxchunk} pages`);
    const counters = [
      `alloc_pages_success ${a.alloc_pages_success}`,
      `alloc_pages_fail ${a.alloc_pages_fail}`,
    ];
    if (a.release_pages_success !== undefined)
      counters.push(`release_pages_success ${a.release_pages_success}`);
    out.push(`  ${counters.join('  ')}`);
    const ranges = a.free_ranges.slice(0, FREE_RANGES_SHOWN).map(([off, n]) => `${n}@${off}`);
    const more = a.free_ranges.length - ranges.length;
    out.push(
      `  bitmap free ranges (${a.free_ranges.length}, pages@offset): ${ranges.join(' ') || 'none'}${more > 0 ? ` (+${more} more)` : ''}`,
    );
    out.push(
      `  pages by state: ${Object.entries(a.pages_by_state)
        .map(([k, v]) => `${k} ${v}`)
        .join('  ')}`,
    );
  }

  out.push('', 'meminfo');
  for (const [k, v] of Object.entries(s.meminfo))
    out.push(`  ${`${k}:`.padEnd(16)}${String(v).padStart(10)} kB`);
  out.push('', 'vmstat');
  for (const [k, v] of Object.entries(s.vmstat)) out.push(`  ${k} ${v}`);

  out.push('', 'processes (VmRSS, VmLck, VmPin in kB; pinned in pages)');
  const procs = [...s.processes].sort((a, b) => a.pid - b.pid);
  const rows = procs.map((p) => [
    String(p.pid),
    visible(p.comm),
    String(p.uid),
    p.state,
    String(p.VmRSS),
    String(p.VmLck),
    String(p.VmPin),
    String(p.pinned.short),
    String(p.pinned.long),
    String(p.pinned.in_cma),
    p.rlimit_memlock === 'unlimited' ? 'unlimited' : size(p.rlimit_memlock),
    p.cap_ipc_lock ? 'yes' : 'no',
    String(p.memlock_denied),
  ]);
  const header = [
    'PID',
    'COMM',
    'UID',
    'STATE',
    'VmRSS',
    'VmLck',
    'VmPin',
    'SHORT',
    'LONG',
    'IN_CMA',
    'MEMLOCK',
    'IPC_LOCK',
    'DENIED',
  ];
  if (rows.length === 0) out.push('  none');
  else out.push(...table('rlrlrrrrrrrlr', header, rows).map((l) => `  ${l}`));

  const uids = Object.keys(s.users).sort((a, b) => Number(a) - Number(b));
  if (uids.length > 0) {
    out.push('', 'users (locked_vm in pages)');
    for (const uid of uids) out.push(`  uid ${uid}  locked_vm ${s.users[uid]!.locked_vm}`);
  }

  const shown = s.failures.length < s.failures_total ? `, first ${s.failures.length} listed` : '';
  out.push('', `failures (${s.failures_total}${shown})`);
  if (s.failures.length === 0) out.push('  none');
  for (const f of s.failures) {
    out.push(`  ${failureLine(f)}`);
    const detail = failureDetail(f, comm);
    if (detail) out.push(`      ${detail}`);
  }

  out.push('', 'trace events (records since boot)');
  const events = Object.entries(s.trace_counts);
  if (events.length === 0) out.push('  none');
  for (const [name, n] of events) out.push(`  ${name} ${n}`);

  const keys = Object.keys(s.results);
  out.push('', 'results');
  if (keys.length === 0) out.push('  none');
  for (const k of keys) {
    const v = s.results[k];
    out.push(
      `  ${visible(k)} = ${indentLines(typeof v === 'string' ? v : JSON.stringify(v), '    ')}`,
    );
  }

  out.push('', `log (${s.logs.length})`);
  if (s.logs.length === 0) out.push('  none');
  for (const l of s.logs)
    out.push(`  t=${seconds(l.t)} ${comm(l.pid)}: ${indentLines(l.msg, '    ')}`);
  return `${out.join('\n')}\n`;
}

/** The final snapshot only. */
export function textExporter(): Exporter {
  return { begin: () => '', snapshot: () => '', end: textReport, abort: () => '' };
}
