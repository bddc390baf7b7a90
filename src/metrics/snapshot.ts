// The snapshot: one versioned record of everything a run shows, built from the kernel's
// observables (docs/snapshot.md). The UI and every exporter read only
// this.
import type { KernelVersion, Policies } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import type { CmaArea } from '../kernel/mm/cma_area.js';
import type { Blocker, Failure } from '../kernel/observe/blame.js';
import { cmaDebugfs, cmaSysfs, meminfo, vmstat } from '../kernel/observe/procfs.js';
import type { LabelTally } from '../kernel/observe/tally.js';
import { type JsonValue, jsonValue } from './json-value.js';
import { Cell, cellOf } from './page-state.js';

export const SCHEMA = 'cmascope/1';

/** a line the workload logged (ctx.log): when, by whom */
export interface LogLine {
  t: number;
  pid: number;
  msg: string;
}
/** failures and log lines kept in a snapshot: the first ones (they explain the rest) */
export const MAX_LIST = 1000;

export interface CmaAreaSnapshot {
  base_pfn: number;
  count: number;
  order_per_bit: number;
  used: number;
  maxchunk: number;
  total_pages: number;
  available_pages: number;
  alloc_pages_success: number;
  alloc_pages_fail: number;
  /** absent on 6.4, which has no such sysfs file */
  release_pages_success?: number;
  free_ranges: [number, number][];
  pages_by_state: {
    free: number;
    cma_client: number;
    movable: number;
    pinned_short: number;
    pinned_long: number;
    isolated: number;
    /** free pages on a per-CPU list: only with policy pcp=on */
    pcp?: number;
  };
}

export interface ProcessSnapshot {
  pid: number;
  comm: string;
  uid: number;
  state: 'running' | 'exited';
  /** kB, as /proc/<pid>/status */
  VmRSS: number;
  VmLck: number;
  VmPin: number;
  /** pages this process holds pinned, by kind of pin, and how many of them are in CMA */
  pinned: { short: number; long: number; in_cma: number };
  /** RLIMIT_MEMLOCK in bytes, or 'unlimited' */
  rlimit_memlock: number | 'unlimited';
  cap_ipc_lock: boolean;
  memlock_denied: number;
}

export interface Snapshot {
  schema: typeof SCHEMA;
  workload: string;
  seed: number;
  kernel: { version: KernelVersion } & Policies;
  simTimeNs: number;
  meminfo: ReturnType<typeof meminfo>;
  vmstat: ReturnType<typeof vmstat>;
  cma: Record<string, CmaAreaSnapshot>;
  processes: ProcessSnapshot[];
  users: Record<string, { locked_vm: number }>;
  failures: Failure[];
  failures_total: number;
  /** trace records per event since boot, events by name (only those emitted) */
  trace_counts: Record<string, number>;
  /** failed cma_alloc calls since boot by area and holder (bounded: kernel/observe/tally.ts) */
  cma_alloc_failures: { area: string; holder_comm: string; via: string; count: number }[];
  /** memlock refusals since boot by uid, counter and the subsystem that asked (bounded) */
  memlock_denials: { uid: string; counter: string; subsystem: string; count: number }[];
  /** what the workload recorded, as plain JSON (json-value.ts says how other values convert) */
  results: Record<string, JsonValue>;
  logs: LogLine[];
}

function pagesByState(k: Kernel, cma: CmaArea): CmaAreaSnapshot['pages_by_state'] {
  const s: CmaAreaSnapshot['pages_by_state'] = {
    free: 0,
    cma_client: 0,
    movable: 0,
    pinned_short: 0,
    pinned_long: 0,
    isolated: 0,
  };
  const n = [0, 0, 0, 0, 0, 0, 0];
  for (let pfn = cma.basePfn; pfn < cma.basePfn + cma.count; pfn++) n[cellOf(k, pfn)]!++;
  s.free = n[Cell.FREE]!;
  s.cma_client = n[Cell.CMA_CLIENT]!;
  s.movable = n[Cell.MOVABLE]!;
  s.pinned_short = n[Cell.PINNED_SHORT]!;
  s.pinned_long = n[Cell.PINNED_LONG]!;
  s.isolated = n[Cell.ISOLATED]!;
  const pcp = n[Cell.PCP]!;
  if (k.alloc.pcp !== null) s.pcp = pcp; // the state exists only with per-CPU lists
  return s;
}

function cmaSnapshot(k: Kernel, cma: CmaArea): CmaAreaSnapshot {
  const d = cmaDebugfs(k, cma);
  const sys = cmaSysfs(k, cma);
  // keys in the contract's order (docs/snapshot.md); release_pages_success only where it exists
  return {
    base_pfn: d.base_pfn,
    count: d.count,
    order_per_bit: d.order_per_bit,
    used: d.used,
    maxchunk: d.maxchunk,
    total_pages: cma.count,
    available_pages: cma.availableCount,
    alloc_pages_success: cma.allocPagesSuccess,
    alloc_pages_fail: cma.allocPagesFail,
    ...(sys.release_pages_success === undefined
      ? {}
      : { release_pages_success: sys.release_pages_success }),
    free_ranges: cma.freeRanges(),
    pages_by_state: pagesByState(k, cma),
  };
}

function processes(k: Kernel): ProcessSnapshot[] {
  const pinned = new Map<number, ProcessSnapshot['pinned']>();
  for (const h of k.pins.all()) {
    const p = pinned.get(h.pid) ?? { short: 0, long: 0, in_cma: 0 };
    for (const pfn of h.pfns) {
      if (pfn < 0) continue; // the zero page
      if (h.longterm) p.long++;
      else p.short++;
      if (k.cmaOf(pfn)) p.in_cma++;
    }
    pinned.set(h.pid, p);
  }
  return [...k.tasks.values()].map((t) => ({
    pid: t.pid,
    comm: t.comm,
    uid: t.cred.uid,
    state: t.state,
    VmRSS: t.state === 'running' ? t.mm.rss() * 4 : 0,
    VmLck: t.mm.lockedVm * 4,
    VmPin: t.mm.pinnedVm * 4,
    pinned: pinned.get(t.pid) ?? { short: 0, long: 0, in_cma: 0 },
    rlimit_memlock: Number.isFinite(t.cred.rlimitMemlock) ? t.cred.rlimitMemlock : 'unlimited',
    cap_ipc_lock: t.cred.capIpcLock,
    memlock_denied: t.memlockDenied,
  }));
}

/**
 * A copy of a kernel failure record, keys in the contract's order: the snapshot must not change
 * when the kernel's objects do, and its key order must not depend on how the kernel built them.
 */
function failureSnapshot(f: Failure): Failure {
  const out = { t: f.t, op: f.op } as Failure;
  if (f.pid !== undefined) out.pid = f.pid;
  if (f.area !== undefined) out.area = f.area;
  if (f.count !== undefined) out.count = f.count;
  out.errno = f.errno;
  if (f.windows !== undefined) {
    const { tried, first, last } = f.windows;
    out.windows = first && last ? { tried, first: { ...first }, last: { ...last } } : { tried };
  }
  if (f.blocking_pfn !== undefined) out.blocking_pfn = f.blocking_pfn;
  if (f.blocking_pfns !== undefined) out.blocking_pfns = [...f.blocking_pfns];
  if (f.blocker !== undefined) {
    const b: Blocker = { pid: f.blocker.pid, comm: f.blocker.comm, via: f.blocker.via };
    if (f.blocker.id !== undefined) b.id = f.blocker.id;
    out.blocker = b;
  }
  if (f.memlock !== undefined) {
    const m = f.memlock;
    out.memlock = {
      counter: m.counter,
      uid: m.uid,
      held: m.held,
      requested: m.requested,
      limit: m.limit,
      capIpcLock: m.capIpcLock,
      subsystem: m.subsystem,
      chargedBy: m.chargedBy.map((c) => ({
        subsystem: c.subsystem,
        pid: c.pid,
        ...(c.id === undefined ? {} : { id: c.id }),
        pages: c.pages,
      })),
    };
  }
  return out;
}

/** Records per tracepoint since boot, by event name; kernel log lines are not trace events. */
function traceCounts(k: Kernel): Record<string, number> {
  const counts = [...k.trace.counts].filter(([name]: [string, number]) => name !== 'pr_err');
  return Object.fromEntries(counts.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A tally's label sets in code-unit order of their values. */
function sorted(t: LabelTally): ReturnType<LabelTally['entries']> {
  const key = (labels: readonly string[]) => labels.join('\u0000');
  return t.entries().sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1));
}

export interface RunInfo {
  workload: string;
  seed: number;
  results: Record<string, unknown>;
  logs: LogLine[];
}

/** Take a snapshot of the kernel now. */
export function snapshot(k: Kernel, run: RunInfo, simTimeNs: number): Snapshot {
  // fromEntries: an area named '__proto__' is a key like any other
  const cma = Object.fromEntries(k.cma.map((c) => [c.name, cmaSnapshot(k, c)]));
  const users: Record<string, { locked_vm: number }> = {};
  for (const [uid, u] of k.users) users[uid] = { locked_vm: u.lockedVm };
  return {
    schema: SCHEMA,
    workload: run.workload,
    seed: run.seed,
    kernel: { version: k.version, ...k.policies },
    simTimeNs,
    meminfo: meminfo(k),
    vmstat: vmstat(k),
    cma,
    processes: processes(k),
    users,
    failures: k.failures.slice(0, MAX_LIST).map(failureSnapshot),
    failures_total: k.failures.length,
    trace_counts: traceCounts(k),
    cma_alloc_failures: sorted(k.cmaAllocFailures).map(
      ({ labels: [area, holder_comm, via], count }) => ({
        area: area!,
        holder_comm: holder_comm!,
        via: via!,
        count,
      }),
    ),
    memlock_denials: sorted(k.memlockDenials).map(
      ({ labels: [uid, counter, subsystem], count }) => ({
        uid: uid!,
        counter: counter!,
        subsystem: subsystem!,
        count,
      }),
    ),
    results: jsonValue(run.results) as Record<string, JsonValue>,
    logs: run.logs.slice(0, MAX_LIST).map((l) => ({ t: l.t, pid: l.pid, msg: l.msg })),
  };
}
