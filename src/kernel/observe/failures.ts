// The failure recorder: every failed allocation or system call becomes a record (docs/snapshot.md
// `failures[]`) naming, while they still hold them, the holders of the pages that blocked it
// (page_pinner's failure log, §6 item 4), and the memlock refusal that caused it.
import { errnoName } from '../config.js';
import type { Kernel } from '../kernel.js';
import { blame, type CmaWindow, type Failure } from './blame.js';

/** Failures keep at most this many distinct blocking pfns (one per failed window). */
const MAX_BLOCKING_PFNS = 64;

export interface FailureDetail {
  area?: string;
  count?: number;
  windows?: { tried: number; first?: CmaWindow; last?: CmaWindow };
  blockingPfns?: readonly number[];
}

/**
 * Record a failure of `op` with errno `errno` (negative) in `k.failures`, the blocking pages'
 * holders in `k.blockers` (the first also in the failure itself), and count it in the label
 * tallies. Returns `errno`.
 */
export function recordFailure(
  k: Kernel,
  op: string,
  errno: number,
  extra: FailureDetail = {},
): number {
  const f: Failure = { t: k.now(), op, errno: errnoName(errno) };
  if (k.currentPid) f.pid = k.currentPid;
  if (extra.area !== undefined) f.area = extra.area;
  if (extra.count !== undefined) f.count = extra.count;
  const w = extra.windows;
  if (w)
    f.windows =
      w.first && w.last ? { tried: w.tried, first: w.first, last: w.last } : { tried: w.tried };
  const pfns = [...new Set(extra.blockingPfns)].slice(0, MAX_BLOCKING_PFNS);
  const holders = pfns.map((pfn) => blame(k.pins, k.alloc.pages, pfn) ?? null);
  if (pfns.length > 0) {
    f.blocking_pfn = pfns[0]!;
    f.blocking_pfns = pfns;
    if (holders[0]) f.blocker = holders[0];
  }
  // the refusal by an accounting limit that made this call fail (pin_acct.ts deny)
  const task = k.tasks.get(k.currentPid);
  const denial = task?.memlockDenial;
  if (task && denial) {
    task.memlockDenial = undefined;
    if (denial.errno === errno) f.memlock = denial.blame;
  }
  if (op === 'cma_alloc') {
    const b = f.blocker;
    k.cmaAllocFailures.add([f.area ?? '', b?.comm ?? 'none', b?.via ?? 'none']);
  }
  const m = f.memlock;
  if (m) k.memlockDenials.add([String(m.uid), m.counter, m.subsystem]);
  k.failures.push(f);
  k.blockers.push(holders);
  return errno;
}
