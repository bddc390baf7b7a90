// Parsers of the files a capture holds, in the formats of 6.4 and 6.18: /proc/meminfo, zoneinfo,
// buddyinfo, pagetypeinfo, /proc/<pid>/status and limits, /sys/kernel/mm/cma and
// /sys/kernel/debug/cma (mm/cma_sysfs.c, mm/cma_debug.c). Every value keeps the bundle line it
// came from (`at`), for the comments of the generated workload and for errors.
import { NR_PAGE_ORDERS } from '../kernel/config.js';
import type { Bundle, Section } from './bundle.js';

/** A value and the `file:line` it was read from. */
export interface Cited<T> {
  value: T;
  at: string;
}

export interface ZoneInfo {
  node: number;
  zone: string;
  free: Cited<number>;
  min: Cited<number>;
  spanned: Cited<number>;
  present: Cited<number>;
  managed: Cited<number>;
  /** absent on a zone with no pages */
  startPfn?: Cited<number>;
}

/** Free blocks per order, per zone (buddyinfo) or per zone and migratetype (pagetypeinfo). */
export interface FreeRow {
  zone: string;
  type?: string;
  counts: number[];
  /** orders whose count the kernel printed as '>100000' (pagetypeinfo caps a list's count) */
  capped: number[];
  at: string;
}

export interface PagetypeInfo {
  free: FreeRow[];
  /** pageblocks per zone and migratetype ("Number of blocks type") */
  blocks: { zone: string; counts: Record<string, number>; at: string }[];
}

export interface ProcessInfo {
  pid: number;
  name: string;
  uid: number;
  /** kB, as status prints them */
  rssKb: number;
  lckKb: number;
  pinKb: number;
  /** CAP_IPC_LOCK (bit 14) in CapEff: locks and pins without the memlock limit */
  capIpcLock: boolean;
  /** RLIMIT_MEMLOCK soft limit in bytes, or 'unlimited'; undefined without a limits file */
  memlock?: number | 'unlimited';
  at: string;
}

const int = (b: Bundle, s: Section, i: number, text: string | undefined, what: string): number => {
  if (text === undefined || !/^\d+$/.test(text))
    throw b.error(s, i, `expected ${what} as a number, got '${text ?? ''}'`);
  return Number(text);
};

/** /proc/meminfo: `Key:   value kB`, values in kB. */
export function parseMeminfo(b: Bundle, s: Section): Map<string, Cited<number>> {
  const out = new Map<string, Cited<number>>();
  s.lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(\S+):\s+(\d+)(?: kB)?$/.exec(line.trim());
    if (!m) throw b.error(s, i, `cannot read '${line}' (Key: value kB)`);
    out.set(m[1]!, { value: Number(m[2]), at: b.where(s, i) });
  });
  return out;
}

/** One uname -r line: '6.18.44-fc-v1147'. */
export function parseUname(
  b: Bundle,
  s: Section,
): Cited<{ major: number; minor: number; text: string }> {
  const line = s.lines[0]?.trim() ?? '';
  const m = /^(\d+)\.(\d+)/.exec(line);
  if (!m) throw b.error(s, 0, `expected a kernel release such as 6.18.1, got '${line}'`);
  return { value: { major: Number(m[1]), minor: Number(m[2]), text: line }, at: b.where(s, 0) };
}

const ZONE_HEADER = /^Node (\d+), zone\s+(\S+)$/;

/** /proc/zoneinfo: the zones with their counters (pages). */
export function parseZoneinfo(b: Bundle, s: Section): ZoneInfo[] {
  const zones: ZoneInfo[] = [];
  let cur: Partial<ZoneInfo> & { node?: number; zone?: string; hdr?: number } = {};
  const finish = () => {
    if (cur.zone === undefined) return;
    for (const k of ['free', 'min', 'spanned', 'present', 'managed'] as const)
      if (!cur[k]) throw b.error(s, cur.hdr!, `zone ${cur.zone} has no '${k}' line`);
    zones.push(cur as ZoneInfo);
  };
  s.lines.forEach((line, i) => {
    const h = ZONE_HEADER.exec(line.trim());
    if (h) {
      finish();
      cur = { node: Number(h[1]), zone: h[2]!, hdr: i };
      return;
    }
    if (cur.zone === undefined) return; // per-node stats before the first zone
    const t = line.trim();
    const kv = /^(pages free|min|spanned|present|managed|start_pfn:)\s+(\S+)$/.exec(t);
    if (!kv) return;
    const key = kv[1]!;
    const v = { value: int(b, s, i, kv[2], key), at: b.where(s, i) };
    if (key === 'pages free') cur.free = v;
    else if (key === 'start_pfn:') cur.startPfn = v;
    else if (key === 'min' && !cur.min) cur.min = v;
    else if (key === 'spanned' || key === 'present' || key === 'managed') cur[key] = v;
  });
  finish();
  if (zones.length === 0) throw b.error(s, 0, "no 'Node N, zone NAME' line");
  return zones;
}

const counts = (b: Bundle, s: Section, i: number, cells: string[]): [number[], number[]] => {
  if (cells.length !== NR_PAGE_ORDERS)
    throw b.error(s, i, `expected ${NR_PAGE_ORDERS} counts (orders 0 to 10), got ${cells.length}`);
  const capped: number[] = [];
  const out = cells.map((c, o) => {
    if (c.startsWith('>')) capped.push(o);
    return int(b, s, i, c.replace(/^>/, ''), `the order-${o} count`);
  });
  return [out, capped];
};

/** /proc/buddyinfo: `Node 0, zone   Normal  c0 ... c10`. */
export function parseBuddyinfo(b: Bundle, s: Section): FreeRow[] {
  const rows: FreeRow[] = [];
  s.lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^Node\s+\d+,\s+zone\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) throw b.error(s, i, `cannot read '${line}' (Node N, zone NAME counts)`);
    const [c] = counts(b, s, i, m[2]!.trim().split(/\s+/));
    rows.push({ zone: m[1]!, counts: c, capped: [], at: b.where(s, i) });
  });
  return rows;
}

/** /proc/pagetypeinfo: free blocks per zone, migratetype and order; pageblocks per type. */
export function parsePagetypeinfo(b: Bundle, s: Section): PagetypeInfo {
  const out: PagetypeInfo = { free: [], blocks: [] };
  let blockTypes: string[] | undefined;
  s.lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('Page block order') || t.startsWith('Pages per block')) return;
    if (t.startsWith('Free pages count per migrate type')) return;
    if (t.startsWith('Number of blocks type')) {
      blockTypes = t.replace('Number of blocks type', '').trim().split(/\s+/);
      return;
    }
    const free = /^Node\s+\d+,\s+zone\s+(\S+),\s+type\s+(\S+)\s+(.*)$/.exec(t);
    if (free) {
      const [c, capped] = counts(b, s, i, free[3]!.trim().split(/\s+/));
      out.free.push({ zone: free[1]!, type: free[2]!, counts: c, capped, at: b.where(s, i) });
      return;
    }
    const blk = /^Node\s+\d+,\s+zone\s+(\S+)\s+(.*)$/.exec(t);
    if (blk && blockTypes) {
      const cells = blk[2]!.trim().split(/\s+/);
      if (cells.length !== blockTypes.length)
        throw b.error(s, i, `expected ${blockTypes.length} pageblock counts, got ${cells.length}`);
      const c: Record<string, number> = {};
      cells.forEach((v, j) => {
        c[blockTypes![j]!] = int(b, s, i, v, `the ${blockTypes![j]} pageblock count`);
      });
      out.blocks.push({ zone: blk[1]!, counts: c, at: b.where(s, i) });
      return;
    }
    // the page_owner table of "Number of mixed blocks" (CONFIG_PAGE_OWNER) is not needed
    if (blockTypes && /^Number of mixed blocks/.test(t)) blockTypes = undefined;
    else if (!blockTypes || !/^Node/.test(t)) throw b.error(s, i, `cannot read '${line}'`);
  });
  if (out.free.length === 0) throw b.error(s, 0, "no 'Node N, zone NAME, type TYPE' line");
  return out;
}

/** A file of one number: `/sys/kernel/mm/cma/<area>/total_pages`, debugfs `count`, ... */
export function parseNumber(b: Bundle, s: Section): Cited<number> {
  return { value: int(b, s, 0, s.lines[0]?.trim(), s.path), at: b.where(s, 0) };
}

/** debugfs `bitmap`: debugfs_create_u32_array() prints the u32 words, space separated. */
export function parseBitmap(b: Bundle, s: Section): Cited<Uint32Array> {
  const cells = (s.lines[0] ?? '')
    .trim()
    .split(/\s+/)
    .filter((c) => c !== '');
  const words = new Uint32Array(cells.length);
  cells.forEach((c, j) => {
    const v = int(b, s, 0, c, `bitmap word ${j}`);
    if (v > 0xffffffff) throw b.error(s, 0, `bitmap word ${j} (${c}) is not a u32`);
    words[j] = v;
  });
  return { value: words, at: b.where(s, 0) };
}

/** CAP_IPC_LOCK, capability 14 (include/uapi/linux/capability.h). */
const CAP_IPC_LOCK = 14n;

/** /proc/<pid>/status, reduced by the capture to Name, Uid, CapEff, VmRSS, VmLck and VmPin. */
export function parseStatus(b: Bundle, s: Section, pid: number): ProcessInfo | undefined {
  const f: Record<string, string> = {};
  s.lines.forEach((line, i) => {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (!m) throw b.error(s, i, `cannot read '${line}' (Key: value)`);
    f[m[1]!] = m[2]!.trim();
  });
  if (f.VmRSS === undefined) return undefined; // a kernel thread: no mm
  const kb = (k: string): number => {
    const i = s.lines.findIndex((l) => l.startsWith(`${k}:`));
    const m = /^(\d+) kB$/.exec(f[k] ?? '0 kB');
    if (!m) throw b.error(s, i, `expected '${k}: N kB', got '${f[k]}'`);
    return Number(m[1]);
  };
  const uid = /^(\d+)/.exec(f.Uid ?? '');
  const capIdx = s.lines.findIndex((l) => l.startsWith('CapEff:'));
  if (f.CapEff !== undefined && !/^[0-9a-f]{1,16}$/.test(f.CapEff))
    throw b.error(s, capIdx, `expected 'CapEff: HEX', got '${f.CapEff}'`);
  const capIpcLock =
    f.CapEff !== undefined && ((BigInt(`0x${f.CapEff}`) >> CAP_IPC_LOCK) & 1n) === 1n;
  return {
    pid,
    name: f.Name ?? String(pid),
    uid: uid ? Number(uid[1]) : 0,
    rssKb: kb('VmRSS'),
    lckKb: kb('VmLck'),
    pinKb: kb('VmPin'),
    capIpcLock,
    at: b.where(s, 0),
  };
}

/** /proc/<pid>/limits' `Max locked memory  SOFT  HARD  bytes` line: the soft limit. */
export function parseMemlock(b: Bundle, s: Section): number | 'unlimited' | undefined {
  const i = s.lines.findIndex((l) => l.startsWith('Max locked memory'));
  if (i < 0) return undefined;
  const soft = s.lines[i]!.replace('Max locked memory', '').trim().split(/\s+/)[0];
  if (soft === 'unlimited') return 'unlimited';
  return int(b, s, i, soft, 'the soft limit of Max locked memory');
}
