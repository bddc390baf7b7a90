// The detail of one process (enter on a process; esc goes back), as htop's and btop's: its
// memlock counters against the limit, its pins by holder and path, its mappings as
// /proc/PID/maps lists them, and the failures it met or caused.
import { memo } from 'react';
import { size } from '../metrics/fmt.js';
import type { ProcDetail } from '../metrics/proc-detail.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { failureLines } from './failures-panel.js';
import { pages, seconds } from './format.js';
import { Panel } from './lines.js';
import { fitText, type Line, padStart, seg } from './text.js';
import { type Theme, useTheme } from './theme.js';

export interface ProcessDetailProps {
  pid: number;
  snapshot: Snapshot;
  /** from the run's worker; undefined until its first frame after enter */
  detail: ProcDetail | undefined;
  width: number;
  height: number;
}

const label = (text: string): Seg => seg(fitText(text, 10), 'muted');
type Seg = Line[number];

/** 'VmPin (mm->pinned_vm)      1536 of 2048 pages  75%' */
function counterLine(name: string, held: number, limit: number): Line {
  const of = Number.isFinite(limit)
    ? ` of ${limit} pages  ${limit > 0 ? Math.round((held / limit) * 100) : 100}%`
    : ' pages (no limit)';
  return [
    seg(`  ${fitText(name, 26)}`),
    seg(padStart(String(held), 8), 'title'),
    seg(of, held > limit ? 'crit' : held * 10 >= limit * 9 ? 'warn' : 'muted'),
  ];
}

export function processDetailLines(p: ProcessDetailProps, theme: Theme): Line[] {
  const s = p.snapshot;
  const q = s.processes.find((x) => x.pid === p.pid);
  if (!q) return [[seg(`process ${p.pid} is not in this run`, 'muted')]];
  const g = theme.glyphs;
  const out: Line[] = [
    [
      seg(`${q.comm}[${q.pid}]`, 'title'),
      seg(`  uid ${q.uid}  ${q.state}  RSS ${pages(q.VmRSS / 4)}`, 'muted'),
    ],
  ];
  const limit = q.rlimit_memlock === 'unlimited' ? Infinity : q.rlimit_memlock / 4096;
  out.push([
    label('memlock'),
    seg(
      `RLIMIT_MEMLOCK ${q.rlimit_memlock === 'unlimited' ? 'unlimited' : `${size(q.rlimit_memlock)} (${limit} pages)`}, CAP_IPC_LOCK ${q.cap_ipc_lock ? 'yes: no limit applies' : 'no'}, ${q.memlock_denied} denied`,
    ),
  ]);
  const capped = q.cap_ipc_lock ? Infinity : limit;
  const user = s.users[String(q.uid)];
  const counters: [string, number][] = [
    ['VmLck (mm->locked_vm)', q.VmLck / 4],
    ['VmPin (mm->pinned_vm)', q.VmPin / 4],
    ...(user ? [[`user ${q.uid} locked_vm`, user.locked_vm] as [string, number]] : []),
  ];
  // a short panel gets them on one line, to leave room for the pins and mappings
  if (p.height - 2 < 16)
    out.push([
      seg('  '),
      seg(counters.map(([name, held]) => `${name.split(' (')[0]} ${held}`).join('  ')),
      seg(Number.isFinite(capped) ? ` of ${capped} pages each` : ' pages (no limit)', 'muted'),
    ]);
  else for (const [name, held] of counters) out.push(counterLine(name, held, capped));

  const d = p.detail;
  const pins = d?.pins ?? [];
  const total = pins.reduce((n, x) => n + x.pages, 0);
  const inCma = pins.reduce((n, x) => n + x.in_cma, 0);
  out.push([
    seg('Pins', 'title'),
    seg(
      d
        ? `  ${pins.length} holder${pins.length === 1 ? '' : 's'}, ${total} pages, ${inCma} in CMA`
        : '  …',
      'muted',
    ),
  ]);
  if (pins.length > 0)
    out.push([
      seg(
        `  ${fitText('VIA', 10)} ${padStart('ID', 5)} ${padStart('PAGES', 8)}  ${fitText('KIND', 10)} ${padStart('IN CMA', 8)}`,
        'muted',
      ),
    ]);
  for (const x of pins)
    out.push([
      seg(`  ${fitText(x.via, 10)} ${padStart(String(x.id), 5)} ${padStart(String(x.pages), 8)}  `),
      seg(fitText(x.longterm ? 'long-term' : 'short-term', 10), x.longterm ? 'plain' : 'warn'),
      seg(` ${padStart(String(x.in_cma), 8)}`, x.in_cma > 0 ? 'crit' : 'plain'),
    ]);

  const own = s.failures.filter((f) => f.pid === p.pid);
  const caused = s.failures.filter((f) => f.blocker?.pid === p.pid && f.pid !== p.pid);
  out.push([
    seg('Failures', 'title'),
    seg(`  ${own.length} of its own, ${caused.length} blocked by its pages`, 'muted'),
  ]);
  for (const f of [...own, ...caused].slice(0, 4))
    for (const l of failureLines(f, s.processes, g, p.width - 4)) out.push([seg('  '), ...l]);

  const maps = d?.mappings ?? [];
  const room = p.height - 2 - out.length - 2;
  out.push([
    seg(`Mappings (/proc/${p.pid}/maps)`, 'title'),
    seg(d ? `  ${maps.length}` : '  …', 'muted'),
  ]);
  if (maps.length > 0) {
    const mapsW = Math.max(...maps.map((m) => m.maps.length));
    out.push([
      seg(
        `  ${fitText('', mapsW)} ${padStart('PAGES', 8)} ${padStart('RSS', 8)} ${padStart('IN CMA', 8)}  LOCKED`,
        'muted',
      ),
    ]);
    const shown = Math.max(1, room - 1);
    for (const m of maps.slice(0, shown))
      out.push([
        seg(
          `  ${fitText(m.maps, mapsW)} ${padStart(String(m.pages), 8)} ${padStart(String(m.rss), 8)} `,
        ),
        seg(padStart(String(m.in_cma), 8), m.in_cma > 0 ? 'warn' : 'plain'),
        seg(m.locked ? '  yes' : '  no', 'muted'),
      ]);
    if (maps.length > shown) out.push([seg(`  +${maps.length - shown} more mappings`, 'muted')]);
  }
  out.push([seg(`as of t=${seconds(s.simTimeNs)}; esc goes back`, 'muted')]);
  return out;
}

export const ProcessDetail = memo(function ProcessDetail(p: ProcessDetailProps) {
  const theme = useTheme();
  return (
    <Panel
      frame={{
        title: [seg('Process details', 'title')],
        width: p.width,
        height: p.height,
        focused: true,
      }}
      lines={processDetailLines(p, theme)}
    />
  );
});
