// Failures with blame: every failed allocation or syscall, and for those a page blocked, the
// blocking PFN → the process holding it → the path it holds it through (failures[].blocker).
// The workload's results sit on the first line: they say whether playback started.
import { memo } from 'react';
import { memlockText } from '../metrics/blame-text.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { hex, seconds } from './format.js';
import { Panel } from './lines.js';
import { type Line, lineWidth, seg, wrap } from './text.js';
import { type Glyphs, type Theme, type Tone, themed, useTheme } from './theme.js';

export type Failure = Snapshot['failures'][number];
type Blocker = NonNullable<Failure['blocker']>;

/** 'drm-client[102] via tee_shm id 1' */
export const holderText = (b: Blocker): string =>
  `${b.comm}[${b.pid}] via ${b.via}${b.id === undefined ? '' : ` id ${b.id}`}`;

/**
 * The blame: 'pfn 0x3488c → drm-client[102] → tee_shm id 1', or the accounting limit that
 * refused: 'user 1000 locked_vm 1536 + 1024 > 2048 pages (RLIMIT_MEMLOCK 8 MiB)'.
 */
export function blameText(f: Failure, g: Glyphs): string | undefined {
  if (f.memlock) return memlockText(f.memlock, f.pid);
  if (f.blocking_pfn === undefined) return undefined;
  const b = f.blocker;
  if (!b) return `pfn ${hex(f.blocking_pfn)} ${g.arrow} (holder unknown)`;
  return `pfn ${hex(f.blocking_pfn)} ${g.arrow} ${b.comm}[${b.pid}] ${g.arrow} ${b.via}${b.id === undefined ? '' : ` id ${b.id}`}`;
}

/** 'mediaserver[103]' for a pid, from the snapshot's processes. */
export function commOf(processes: Snapshot['processes'], pid: number | undefined): string {
  if (pid === undefined) return '?';
  const p = processes.find((q) => q.pid === pid);
  return `${p?.comm ?? (pid === 0 ? 'kernel' : '?')}[${pid}]`;
}

/**
 * One failure in `width` columns: 't=5.622s cma_alloc svp 51200 pages EBUSY  pfn … → … → …'. The
 * blame is never cut: the time, the request and the area give way first, in that order, and a
 * blame that still does not fit goes on a line of its own (issue #14 item 1).
 */
export function failureLines(
  f: Failure,
  processes: Snapshot['processes'],
  g: Glyphs,
  width: number,
): Line[] {
  const blame = blameText(f, g);
  const tail = blame ? seg(blame, 'warn') : seg(`caller ${commOf(processes, f.pid)}`, 'muted');
  const count = f.count === undefined ? undefined : `${f.count} pages`;
  const forms: [string, (string | undefined)[]][] = [
    [`t=${seconds(f.t)} `, [f.op, f.area, count]],
    [`${seconds(f.t)} `, [f.op, f.area, count]],
    [`${seconds(f.t)} `, [f.op, f.area]],
    ['', [f.op]],
  ];
  const line = ([time, what]: [string, (string | undefined)[]]): Line => [
    seg(time, 'muted'),
    seg(what.filter((x) => x !== undefined).join(' '), 'title'),
    seg(' '),
    seg(f.errno, 'crit'),
  ];
  for (const form of forms) {
    const head = line(form);
    if (lineWidth(head) + 2 + lineWidth([tail]) <= width) return [[...head, seg('  '), tail]];
  }
  // holder and path stay whole: the blame breaks before an arrow
  const arrows = new RegExp(`(?= ${g.arrow} )`);
  return [line(forms[0]!), ...wrap([seg('    '), tail], width, 4, (t) => t.split(arrows))];
}

/**
 * The failure shown when the user has not picked one: the newest, or, when the newest is the
 * consequence of a blamed failure at the same instant (dma_heap_alloc after cma_alloc), that one.
 */
export function defaultFailure(failures: readonly Failure[]): number {
  const last = failures.length - 1;
  const t = failures[last]?.t;
  for (let i = last; i >= 0 && failures[i]!.t === t; i--) {
    if (failures[i]!.blocking_pfn !== undefined) return i;
  }
  return last;
}

const resultTone = (v: unknown): Tone =>
  v === 'ok' ? 'ok' : typeof v === 'string' && /^E[A-Z0-9]+$/.test(v) ? 'crit' : 'plain';

/** 'playback_start=ENOMEM  tee_register=ok  ...' */
export function resultsLine(results: Snapshot['results']): Line {
  const keys = Object.keys(results);
  if (keys.length === 0) return [seg('results: none yet', 'muted')];
  const out: Line = [seg('results ', 'muted')];
  keys.forEach((k, i) => {
    const v = results[k];
    if (i > 0) out.push(seg('  '));
    out.push(seg(`${k}=`), seg(typeof v === 'string' ? v : JSON.stringify(v), resultTone(v)));
  });
  return out;
}

export interface FailuresPanelProps {
  failures: Snapshot['failures'];
  total: number;
  processes: Snapshot['processes'];
  results: Snapshot['results'];
  /** selected failure; undefined: the newest */
  selected: number | undefined;
  width: number;
  height: number;
  focused: boolean;
}

export function failureListLines(p: FailuresPanelProps, theme: Theme): Line[] {
  const g = theme.glyphs;
  const lines: Line[] = [resultsLine(p.results)];
  const room = Math.max(0, p.height - 3);
  if (p.failures.length === 0) {
    lines.push([seg('no failures yet', 'muted')]);
    return lines;
  }
  const sel = Math.min(p.selected ?? defaultFailure(p.failures), p.failures.length - 1);
  const inner = p.width - 2 - 2; // the border, the selection mark
  // lines of the failures in view only: a run may list 1000, and this runs every frame
  const made = new Map<number, Line[]>();
  const item = (i: number): Line[] => {
    let l = made.get(i);
    if (!l) {
      l = failureLines(p.failures[i]!, p.processes, g, inner);
      made.set(i, l);
    }
    return l;
  };
  const n = p.failures.length;
  // the selection in view, as near the newest as room allows
  let first = n;
  for (let used = 0; first > 0 && used + item(first - 1).length <= room; first--)
    used += item(first - 1).length;
  first = Math.min(first, sel);
  for (let i = first; i < n && lines.length - 1 < room; i++) {
    const selected = i === sel;
    item(i).forEach((l, j) => {
      const line = [seg(j === 0 && selected ? `${g.focus} ` : '  ', 'accent'), ...l];
      lines.push(selected && p.focused ? line.map((s) => ({ ...s, tone: 'selected' })) : line);
    });
  }
  return lines;
}

export const FailuresPanel = themed(
  memo(function FailuresPanel(p: FailuresPanelProps) {
    const theme = useTheme();
    const shown = p.failures.length < p.total ? `, first ${p.failures.length} kept` : '';
    const title: Line = [
      seg('Failures', 'title'),
      seg(` (${p.total}${shown})`, p.total > 0 ? 'crit' : 'muted'),
    ];
    const right: Line = p.failures.length > 0 ? [seg('enter: details', 'muted')] : [];
    return (
      <Panel
        frame={{ title, right, width: p.width, height: p.height, focused: p.focused }}
        lines={failureListLines(p, theme)}
      />
    );
  }),
);
