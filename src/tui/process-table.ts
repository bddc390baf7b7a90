// The processes table: rows from a snapshot, sorting, filtering, and columns that fit the width
// (the least important are dropped first). Pure; processes-panel.tsx draws it.
import type { ProcessSnapshot, Snapshot } from '../metrics/snapshot.js';
import { gauge } from './charts.js';
import { bytes, percent } from './format.js';
import { fitLine, type Line, merge, padStart, type Seg, seg } from './text.js';
import type { Glyphs, Tone } from './theme.js';

export interface ProcRow {
  pid: number;
  comm: string;
  uid: number;
  state: ProcessSnapshot['state'];
  /** bytes */
  rss: number;
  short: number;
  long: number;
  inCma: number;
  vmlck: number;
  vmpin: number;
  /** what counts against RLIMIT_MEMLOCK: the largest of VmLck, VmPin and the user's locked_vm */
  memlock: number;
  /** bytes; Infinity when unlimited or the task has CAP_IPC_LOCK */
  limit: number;
  capIpcLock: boolean;
  denied: number;
}

const PAGE = 4096;

export function procRows(s: Pick<Snapshot, 'processes' | 'users'>): ProcRow[] {
  return s.processes.map((p) => {
    const userLocked = (s.users[String(p.uid)]?.locked_vm ?? 0) * PAGE;
    const limit =
      p.cap_ipc_lock || p.rlimit_memlock === 'unlimited' ? Infinity : (p.rlimit_memlock as number);
    return {
      pid: p.pid,
      comm: p.comm,
      uid: p.uid,
      state: p.state,
      rss: p.VmRSS * 1024,
      short: p.pinned.short * PAGE,
      long: p.pinned.long * PAGE,
      inCma: p.pinned.in_cma * PAGE,
      vmlck: p.VmLck * 1024,
      vmpin: p.VmPin * 1024,
      memlock: Math.max(p.VmLck * 1024, p.VmPin * 1024, userLocked),
      limit,
      capIpcLock: p.cap_ipc_lock,
      denied: p.memlock_denied,
    };
  });
}

export type SortKey =
  | 'pid'
  | 'comm'
  | 'uid'
  | 'rss'
  | 'short'
  | 'long'
  | 'inCma'
  | 'vmlck'
  | 'vmpin'
  | 'memlock'
  | 'denied';

/** The order `s` cycles through. */
export const SORT_KEYS: readonly SortKey[] = [
  'pid',
  'comm',
  'uid',
  'rss',
  'short',
  'long',
  'inCma',
  'vmlck',
  'vmpin',
  'memlock',
  'denied',
];

/** Names and numbers sort up; amounts sort largest first. */
export const defaultDescending = (k: SortKey): boolean => !['pid', 'comm', 'uid'].includes(k);

const memlockFraction = (r: ProcRow) => (Number.isFinite(r.limit) ? r.memlock / r.limit : 0);

export function sortRows(
  rows: readonly ProcRow[],
  sort: { key: SortKey; desc: boolean },
): ProcRow[] {
  const value = (r: ProcRow): number | string =>
    sort.key === 'memlock' ? memlockFraction(r) : r[sort.key];
  const dir = sort.desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a.pid - b.pid; // ties: by pid, always ascending
  });
}

/** Rows whose comm contains `text` (case-insensitive), or whose pid or uid is `text`. */
export function filterRows(rows: readonly ProcRow[], text: string): ProcRow[] {
  const t = text.trim().toLowerCase();
  if (t === '') return [...rows];
  return rows.filter(
    (r) => r.comm.toLowerCase().includes(t) || String(r.pid) === t || String(r.uid) === t,
  );
}

export interface Column {
  id: string;
  title: string;
  width: number;
  align: 'l' | 'r';
  /** dropped first when the table is too wide: higher numbers go first */
  drop: number;
  sort?: SortKey;
  /** what an abbreviated title means, for the help screen */
  legend?: string;
  cell(r: ProcRow, g: Glyphs): Seg[];
}

const num = (tone: Tone, text: string): Seg[] => [seg(text, tone)];
const amount = (n: number, tone: Tone = 'plain'): Seg[] => num(n === 0 ? 'muted' : tone, bytes(n));

const GAUGE = 8;

function memlockCell(r: ProcRow, g: Glyphs): Seg[] {
  if (!Number.isFinite(r.limit)) {
    const why = r.capIpcLock ? 'CAP_IPC_LOCK' : 'unlimited';
    return [seg(g.gaugeEmpty.repeat(GAUGE), 'muted'), seg(` ${why}`, 'muted')];
  }
  const f = r.memlock / r.limit;
  const tone: Tone = f >= 1 ? 'crit' : f >= 0.9 ? 'warn' : 'ok';
  // a glyph as well as a colour: '!' near the limit, 'X' over it
  const mark = f >= 1 ? 'X' : f >= 0.9 ? '!' : ' ';
  return [
    seg(gauge(r.memlock, r.limit, GAUGE, g), tone),
    seg(` ${padStart(percent(f), 4)}${mark}`, f >= 0.9 ? tone : 'plain'),
    seg(`/${bytes(r.limit)}`, 'muted'),
  ];
}

export const COLUMNS: readonly Column[] = [
  {
    id: 'pid',
    title: 'PID',
    width: 6,
    align: 'r',
    drop: 0,
    sort: 'pid',
    cell: (r) => num('plain', String(r.pid)),
  },
  {
    id: 'comm',
    title: 'COMM',
    width: 15,
    align: 'l',
    drop: 0,
    sort: 'comm',
    cell: (r) => num(r.state === 'exited' ? 'muted' : 'title', r.comm),
  },
  {
    id: 'st',
    title: 'S',
    width: 1,
    align: 'l',
    drop: 6,
    cell: (r) => (r.state === 'exited' ? num('muted', 'X') : num('plain', 'R')),
  },
  {
    id: 'uid',
    title: 'UID',
    legend: "its user: RLIMIT_MEMLOCK's locked_vm is per user",
    width: 5,
    align: 'r',
    drop: 5,
    sort: 'uid',
    cell: (r) => num('plain', String(r.uid)),
  },
  {
    id: 'rss',
    title: 'RSS',
    width: 5,
    align: 'r',
    drop: 3,
    sort: 'rss',
    cell: (r) => amount(r.rss),
  },
  {
    id: 'short',
    title: 'PIN-S',
    legend: 'pinned short-term (FOLL_PIN)',
    width: 5,
    align: 'r',
    drop: 1,
    sort: 'short',
    cell: (r) => amount(r.short, 'pinned_short'),
  },
  {
    id: 'long',
    title: 'PIN-L',
    legend: 'pinned long-term (FOLL_LONGTERM: moved out of CMA first)',
    width: 5,
    align: 'r',
    drop: 1,
    sort: 'long',
    cell: (r) => amount(r.long, 'pinned_long'),
  },
  {
    id: 'inCma',
    title: 'IN-CMA',
    legend: 'pinned pages in CMA: they block cma_alloc',
    width: 6,
    align: 'r',
    drop: 0,
    sort: 'inCma',
    cell: (r) => amount(r.inCma, 'warn'),
  },
  {
    id: 'vmlck',
    title: 'VmLck',
    legend: 'mlocked (/proc/PID/status)',
    width: 5,
    align: 'r',
    drop: 4,
    sort: 'vmlck',
    cell: (r) => amount(r.vmlck),
  },
  {
    id: 'vmpin',
    title: 'VmPin',
    legend: 'pinned_vm (/proc/PID/status)',
    width: 5,
    align: 'r',
    drop: 2,
    sort: 'vmpin',
    cell: (r) => amount(r.vmpin),
  },
  {
    id: 'memlock',
    title: 'MEMLOCK',
    legend:
      "the largest of VmLck, VmPin and the user's locked_vm against RLIMIT_MEMLOCK: ! at 90 %, X at the limit",
    width: GAUGE + 13,
    align: 'l',
    drop: 0,
    sort: 'memlock',
    cell: memlockCell,
  },
  {
    id: 'denied',
    title: 'DENIED',
    legend: 'pins and locks refused for RLIMIT_MEMLOCK',
    width: 6,
    align: 'r',
    drop: 0,
    sort: 'denied',
    cell: (r) => (r.denied > 0 ? num('crit', `${r.denied}!`) : num('muted', '0')),
  },
];

const GAP = 1;

/** The columns that fit in `width`, in table order. */
export function fitColumns(width: number): Column[] {
  let cols = [...COLUMNS];
  const total = (cs: Column[]) => cs.reduce((n, c) => n + c.width, 0) + GAP * (cs.length - 1);
  while (total(cols) > width) {
    const worst = Math.max(...cols.map((c) => c.drop));
    if (worst === 0) break;
    const i = cols.map((c) => c.drop).lastIndexOf(worst);
    cols = cols.filter((_, j) => j !== i);
  }
  return cols;
}

function cellLine(segs: Seg[], c: Column, ellipsis: string): Line {
  const text = segs.map((s) => s.text).join('');
  const pad = Math.max(0, c.width - [...text].length);
  const padded = c.align === 'r' ? [seg(' '.repeat(pad)), ...segs] : segs;
  return fitLine(padded, c.width, ellipsis);
}

export function headerLine(cols: Column[], sort: { key: SortKey; desc: boolean }, g: Glyphs): Line {
  const out: Line = [];
  cols.forEach((c, i) => {
    if (i > 0) out.push(seg(' '.repeat(GAP)));
    // the sorted column in the accent, with its arrow where it fits (the panel's title always
    // has it): a column name is never cut for the arrow
    const sorted = c.sort === sort.key;
    const arrow = sorted && c.title.length < c.width ? (sort.desc ? g.sortDesc : g.sortAsc) : '';
    const title = `${c.title}${arrow}`;
    out.push(...cellLine([seg(title, sorted ? 'accent' : 'title')], c, g.ellipsis));
  });
  return merge(out);
}

export function rowLine(r: ProcRow, cols: Column[], g: Glyphs): Line {
  const out: Line = [];
  cols.forEach((c, i) => {
    if (i > 0) out.push(seg(' '.repeat(GAP)));
    out.push(...cellLine(c.cell(r, g), c, g.ellipsis));
  });
  return merge(out);
}
