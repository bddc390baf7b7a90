// cma_alloc() and cma_release() on a CMA area (kernel-model.md §2.1–§2.7, §6 items 2–3).
import type { Sleep } from '../../sim/engine.js';
import { sleep } from '../../sim/engine.js';
import { ANDROID_CMA_RETRIES, CMA_RETRY_SLEEP_NS, ERRNO } from '../config.js';
import { GCMA_ATTEMPT_NS, GCMA_PAGE_NS } from '../cost.js';
import { features } from '../features.js';
import type { Kernel } from '../kernel.js';
import type { CmaWindow } from '../observe/blame.js';
import { recordFailure } from '../observe/failures.js';
import { KERN_DEFAULT, KERN_ERR, KERN_INFO } from '../observe/printk.js';
import { bitmapFindNextZeroAreaOff } from './bitmap.js';
import type { CmaArea } from './cma_area.js';
import { __GFP_NORETRY } from './gfp.js';
import { PageKind, PG_CLEANCACHE } from './page.js';
import { allocContigRange, type ContigResult } from './page_isolation.js';

export interface CmaAllocOpts {
  noWarn?: boolean;
  gfp?: number;
}

/** What the last cma_alloc learnt, for blame: the fin_pfn of every failed window. */
export interface CmaAllocOutcome {
  pfn: number;
  errno: number;
  /** windows tried, the one that succeeded included */
  windows: number;
  /** the first and the last window that failed */
  firstFailed?: CmaWindow;
  lastFailed?: CmaWindow;
  busyPfns: number[];
  migrated: number;
  /** simulated time the call took, ns */
  latencyNs: number;
}

function prErrAlloc(k: Kernel, cma: CmaArea, count: number, ret: number): void {
  const f = features(k.version);
  const fn = f.cmaAllocFolio ? '__cma_alloc' : 'cma_alloc';
  k.printk(
    KERN_ERR,
    `cma: ${fn}: ${cma.name}: alloc failed, req-size: ${count} pages, ret: ${ret}`,
  );
  if (!f.cmaDebugShowAreas) return; // before 6.9, a stub without CONFIG_CMA_DEBUG
  // cma_debug_show_areas() of 6.15+: pr_info starts a record, pr_cont extends it; the pr_cont
  // after pr_info("\n") finds the record ended and starts its own, without "cma: " (§2.6).
  // for_each_clear_bitrange: "+" before every run that does not start at bit 0
  const runs = cma
    .freeRanges()
    .map(([off, n]) => `${off ? '+' : ''}${n}@${off >> cma.orderPerBit}`);
  k.printk(KERN_INFO, 'cma: number of available pages: ');
  k.printk(KERN_INFO, `cma: range 0: ${runs.join('')}`);
  k.printk(KERN_INFO, 'cma: ');
  k.printk(KERN_DEFAULT, `=> ${cma.availableCount} free of ${cma.count} total pages`);
}

/**
 * cma_alloc(cma, count, align, no_warn) with the window loop of 6.4 or 6.18 (§2.3) and the
 * cmaRetry policy (§6 items 2–3). A generator: each window attempt and retry sleep takes
 * simulated time. Returns the outcome; `pfn` is -1 on failure.
 */
export function* cmaAlloc(
  k: Kernel,
  cma: CmaArea,
  count: number,
  align: number,
  opts: CmaAllocOpts = {},
): Generator<Sleep, CmaAllocOutcome> {
  const { cmaRanges, cmaEarlyExit, cmaTraceFinishLast, cmaBadInputNotFailure } = features(
    k.version,
  );
  const startNs = k.now();
  const out: CmaAllocOutcome = {
    pfn: -1,
    errno: 0,
    windows: 0,
    busyPfns: [],
    migrated: 0,
    latencyNs: 0,
  };
  const finish = (ret: number, tracePfn: number, warn = true): CmaAllocOutcome => {
    // 6.4's `goto out` paths (warn = false) skip trace_cma_alloc_finish as well as the pr_err;
    // 6.4 traces the finish before the pr_err, 6.18 after it (§2.3)
    const traceFinish = () =>
      k.tracepoint('cma_alloc_finish', {
        name: cma.name,
        pfn: tracePfn,
        page: out.pfn,
        count,
        align,
        errorno: ret,
      });
    if (warn && !cmaTraceFinishLast) traceFinish();
    if (ret && warn && !opts.noWarn) prErrAlloc(k, cma, count, ret);
    if (warn && cmaTraceFinishLast) traceFinish();
    if (out.pfn >= 0) {
      k.vm.cma_alloc_success++;
      cma.allocPagesSuccess += count;
    } else {
      k.vm.cma_alloc_fail++;
      cma.allocPagesFail += count;
      if (ret) {
        const windows = { tried: out.windows, first: out.firstFailed, last: out.lastFailed };
        recordFailure(k, 'cma_alloc', ret, {
          area: cma.name,
          count,
          windows,
          blockingPfns: out.busyPfns,
        });
      }
    }
    out.errno = ret;
    out.latencyNs = k.now() - startNs;
    k.cmaCalls.push({ area: cma.name, count, errno: ret, latencyNs: out.latencyNs });
    return out;
  };
  if (cma.count === 0 || count === 0) {
    // 6.18 returns NULL without touching a counter; 6.4 goes through `out:` (§2.3)
    if (cmaBadInputNotFailure) return out;
    return finish(-ERRNO.ENOMEM, -1, false);
  }
  k.tracepoint('cma_alloc_start', {
    name: cma.name,
    request_count: count,
    available_count: cma.availableCount,
    total_count: cma.count,
    align,
  });
  const mask = cma.alignMask(align);
  const offset = cma.alignOffset(align);
  const maxno = cma.maxno;
  const nbits = cma.pagesToBits(count);
  let ret = cmaRanges ? -ERRNO.EBUSY : -ERRNO.ENOMEM; // the initial errno differs (§2.7)
  let lastPfn = -1;
  if (nbits > maxno) return finish(ret, cmaRanges ? 0 : -1, cmaRanges); // 6.4: goto out; 6.18: page ? pfn : 0
  let attempts = 0;
  for (let start = 0; ; ) {
    if (cmaEarlyExit && count > cma.availableCount) break;
    const bitmapNo = bitmapFindNextZeroAreaOff(cma.bitmap, maxno, start, nbits, mask, offset);
    if (bitmapNo >= maxno) {
      // Android GKI and the NOFAIL proposal rescan after 100 ms (§6 items 2–3)
      const policy = k.policies.cmaRetry;
      const retry =
        ret === -ERRNO.EBUSY &&
        ((policy === 'android' && attempts < ANDROID_CMA_RETRIES) || policy === 'nofail');
      if (!retry || k.fatalSignalPending() || (opts.gfp ?? 0) & __GFP_NORETRY) break;
      start = 0;
      ret = -ERRNO.ENOMEM;
      attempts++;
      yield sleep(CMA_RETRY_SLEEP_NS);
      continue;
    }
    const pfn = cma.basePfn + bitmapNo * (1 << cma.orderPerBit);
    cma.markRange(pfn, count, true);
    lastPfn = pfn;
    out.windows++;
    const r = cma.gcma ? gcmaTake(k, cma, pfn, count) : allocContigRange(k, pfn, pfn + count);
    out.migrated += r.migrated;
    ret = r.ret;
    yield sleep(k.takeCharge());
    if (ret === 0) {
      out.pfn = pfn;
      break;
    }
    cma.markRange(pfn, count, false);
    out.lastFailed = { start: pfn, end: pfn + count, fin_pfn: r.finPfn >= 0 ? r.finPfn : null };
    out.firstFailed ??= out.lastFailed;
    if (r.finPfn >= 0) out.busyPfns.push(r.finPfn);
    if (ret !== -ERRNO.EBUSY) break; // -ENOMEM and -EINTR end the whole cma_alloc
    k.tracepoint('cma_alloc_busy_retry', { name: cma.name, pfn, page: pfn, count, align });
    start = bitmapNo + mask + 1;
  }
  // 6.4 reports the last window tried (or -1); 6.18 the page's pfn or 0 (§2.3)
  return finish(ret, cmaRanges ? Math.max(out.pfn, 0) : lastPfn);
}

/**
 * A GCMA window (§6 item 1): the pages hold nothing but discardable clean cache, so they are
 * taken at once, dropping that cache; nothing is isolated or migrated and nothing can block.
 */
function gcmaTake(k: Kernel, cma: CmaArea, pfn: number, count: number): ContigResult {
  const { pages } = k.alloc;
  for (let p = pfn; p < pfn + count; p++) {
    if (pages.flags[p]! & PG_CLEANCACHE) cma.cleancacheEvictions++;
    pages.kind[p] = PageKind.CMA;
    pages.flags[p] = 0;
  }
  k.charge(GCMA_ATTEMPT_NS + count * GCMA_PAGE_NS);
  return { ret: 0, finPfn: -1, migrated: 0 };
}

/** cma_release(): false if the pages are not in the area (§2.5). */
export function cmaRelease(k: Kernel, cma: CmaArea, pfn: number, count: number): boolean {
  if (!cma.contains(pfn) || pfn + count > cma.basePfn + cma.count) return false;
  if (cma.gcma) {
    k.alloc.pages.kind.fill(PageKind.GCMA, pfn, pfn + count); // back to the reservation
    k.alloc.pages.flags.fill(0, pfn, pfn + count);
  } else {
    k.alloc.freeRange(pfn, pfn + count); // free_contig_range: back to the MIGRATE_CMA lists
  }
  cma.markRange(pfn, count, false);
  cma.releasePagesSuccess += count;
  k.tracepoint('cma_release', { name: cma.name, pfn, page: pfn, count });
  return true;
}

/** The unsigned long an int becomes when passed on or compared as one (a negative: above 2^63). */
const toUlong = (n: number): number => (n < 0 ? 2 ** 64 + n : n);

/**
 * debugfs `alloc`: cma_alloc(cma, count, 0, false), remembered for `free` (§2.6). The int count
 * of cma_alloc_mem() reaches cma_alloc() as an unsigned long.
 */
export function* cmaDebugfsAlloc(k: Kernel, cma: CmaArea, count: number): Generator<Sleep, number> {
  const r = yield* cmaAlloc(k, cma, toUlong(count), 0);
  if (r.pfn < 0) return -ERRNO.ENOMEM;
  cma.debugfsMem.push([r.pfn, count]);
  return 0;
}

/**
 * debugfs `free`: release `count` pages from the newest debugfs allocations (cma_free_mem). The
 * int count is compared with each allocation's unsigned long size: a negative one frees them all.
 */
export function cmaDebugfsFree(k: Kernel, cma: CmaArea, count: number): void {
  while (count !== 0) {
    const mem = cma.debugfsMem.pop();
    if (!mem) return;
    const [pfn, n] = mem;
    if (n <= toUlong(count)) {
      cmaRelease(k, cma, pfn, n);
      count -= n;
    } else if (cma.orderPerBit === 0) {
      cmaRelease(k, cma, pfn, count);
      cma.debugfsMem.push([pfn + count, n - count]);
      count = 0;
    } else {
      cma.debugfsMem.push(mem); // cannot release a partial block when order_per_bit != 0
      return;
    }
  }
}
