// What differs between the modelled kernel versions, as named features (like IS_ENABLED()): each
// is on from the release that brought it, cited to its upstream commit. Kernel paths ask
// `features(k.version).cmaEarlyExit` instead of comparing version strings.
import { KERNEL_VERSIONS, type KernelVersion } from './config.js';

/**
 * The first release (v6.x tag) containing each feature, with the upstream commit that brought it
 * (12-character id and subject). Only 6.4 and 6.18 run, so a release between them changes no
 * behaviour; it says where the model's 6.18 rule starts.
 */
const SINCE = {
  /** 6.9, d818c98a52cc "mm/cma: don't treat bad input arguments for cma_alloc() as its failure":
   * an empty area or `count == 0` returns NULL touching no counter. 6.9–6.16 traced
   * cma_alloc_start before that check (51ae3f4ac5e9); 6.17's 08e21e241210 "mm/cma: pair the
   * trace_cma_alloc_start/finish" moved it after, as modelled (§2.3) */
  cmaBadInputNotFailure: '6.9',
  /** 6.9, 51ae3f4ac5e9 "mm/cma: fix placement of trace_cma_alloc_start/finish":
   * trace_cma_alloc_finish at `out:`, after the pr_err and cma_debug_show_areas() (§2.3) */
  cmaTraceFinishLast: '6.9',
  /** 6.9, fe58582c0e36 "mm/cma: drop CONFIG_CMA_DEBUG": cma_debug_show_areas() prints on every
   * failure, in the per-range form of c009da4258f9 (6.15) and "mm: cma: simplify
   * cma_debug_show_areas()" (6.18 cycle), the only form modelled (§2.6) */
  cmaDebugShowAreas: '6.9',
  /** 6.9, b9ad003af13a "mm/cma: add sysfs file 'release_pages_success'" (§2.6) */
  cmaReleasePagesSuccess: '6.9',
  /** 6.12, 463586e9ff39 "mm/cma: add cma_{alloc,free}_folio()": cma_alloc() wraps
   * __cma_alloc(), the name the failure message prints (§2.6) */
  cmaAllocFolio: '6.12',
  /** 6.15, c009da4258f9 "mm, cma: support multiple contiguous ranges, if requested":
   * cma_range_alloc() per range with ret starting at -EBUSY; a request wider than the bitmap fails
   * like any other (pr_err, trace); trace_cma_alloc_finish gets the page's pfn or 0 (§2.3, §2.7) */
  cmaRanges: '6.15',
  /** 6.15, 7365ff2c8eef "mm/cma: export total and free number of pages for CMA areas":
   * available_count, and cma_alloc() stops once a request exceeds it (§2.7) */
  cmaEarlyExit: '6.15',
  /** 6.15, 7365ff2c8eef (as cmaEarlyExit): sysfs total_pages/available_pages, debugfs `used` =
   * count - available_count (§2.6) */
  cmaAvailableCount: '6.15',
  /** 6.18, "mm/cma: add 'available count' and 'total count' to trace_cma_alloc_start" (MM
   * updates for 6.18-rc1; no mainline id found in the stored material): request_count,
   * available_count, total_count (§2.6) */
  cmaAllocStartCounts: '6.18',
  /** 6.14, f58498b72638 "mm/page_alloc: don't use __GFP_HARDWALL when migrating pages via
   * alloc_contig*()", on f6037a4a6865 "mm/page_alloc: sort out the alloc_contig_range() gfp flags
   * mess": __alloc_contig_migrate_range() migrates to GFP_KERNEL, not GFP_USER, targets (§2.4) */
  contigGfpKernel: '6.14',
  /** 6.7, 49cac03a8f0a "mm/migrate: add nr_split to trace_mm_migrate_pages stats." (§2.6) */
  migrateNrSplit: '6.7',
  /** 6.5, 8ac268436e6d "mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed
   * mappings" and a6e79df92e4a "mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed
   * mappings": writable long-term GUP of a dirty-tracked file mapping is -EFAULT, and GUP-fast
   * leaves it to the slow path (§4.5) */
  gupLongtermFileCheck: '6.5',
  /** 6.5, 34ed8d0dcd69 "io_uring: rsrc: delegate VMA file-backed check to GUP": io_pin_pages()
   * no longer refuses file mappings itself (-EOPNOTSUPP) but leaves them to GUP (§4.5) */
  ioUringGupFileCheck: '6.5',
  /** 6.10, 1943f96b3816 "io_uring: unify io_pin_pages()": io_pin_pages() pins with
   * pin_user_pages_fast(), not pin_user_pages() under the mmap lock (§4.5) */
  ioUringPinFast: '6.10',
  /** 6.5, a7e689dd1c06 "block: Convert bio_iov_iter_get_pages to use iov_iter_extract_pages":
   * O_DIRECT pins user pages (FOLL_PIN), no longer FOLL_GET (§4.2) */
  dioFollPin: '6.5',
  /** 6.8, 7bdee4157591 "tee: Use iov_iter to better support shared buffer registration": an
   * empty buffer registers as -ENOMEM (§5.1) */
  teeShmIovIter: '6.8',
  /** 6.8, 225a36b96359 "optee: allocate shared memory with alloc_pages_exact()":
   * TEE_IOC_SHM_ALLOC takes alloc_pages_exact() (§5.1) */
  teeShmAllocExact: '6.8',
  /** 6.7, 90b41691b988 "mm: add framework for PCP high auto-tuning" (high_min/high_max), with
   * c0a242394cb9 "mm, page_alloc: scale the number of pages that are batch allocated"
   * (alloc_factor), 52166607ecc9 "mm: restrict the pcp batch scale factor to avoid too long
   * latency" and 6ccdcb6d3a74 "mm, pcp: reduce detecting time of consecutive high order page
   * freeing" (free_count) (§1.4) */
  pcpHighAuto: '6.7',
  /** 6.7, 57c0419c5f0e "mm, pcp: decrease PCP high if free pages < high watermark" (same
   * series): an allocation that finds a zone below WMARK_HIGH sets ZONE_BELOW_HIGH; while it is
   * set, pcp->high no longer grows on refill and shrinks on each free that reaches high_min; a
   * bulk free clears it once the zone is back above WMARK_HIGH (§1.4, §1.7) */
  pcpBelowHigh: '6.7',
  /** 6.6, liuq's "mm/page_alloc: fix min_free_kbytes calculation regarding ZONE_MOVABLE"
   * (LKML v5 of 25 Jun 2023, against the 6.4 page_alloc.c; in linux-next's mm-unstable from July
   * 2023, so the 6.6 merge window; no mainline id found in the stored material):
   * __setup_per_zone_wmarks() leaves ZONE_MOVABLE out of lowmem_pages and gives it WMARK_MIN =
   * managed / 1024 clamped to [32, 128]; 6.4 counted it as lowmem, with a share of pages_min (§1.7) */
  wmarkMovableNotLowmem: '6.6',
  /** 6.15, c2f6ea38fc1b "mm: page_alloc: don't steal single pages from biggest buddy":
   * a fallback block that cannot be claimed sends the search to the next lower order, and single
   * pages are stolen only after every order failed; 6.4's steal_suitable_fallback() took the
   * stolen block's smallest page instead (§1.5) */
  rmqueueClaim: '6.15',
} as const;

export type Feature = keyof typeof SINCE;
export type Features = { readonly [F in Feature]: boolean };

const release = (v: string): number => {
  const [major, minor] = v.split('.').map(Number);
  return major! * 1000 + minor!;
};

const TABLE = new Map(
  KERNEL_VERSIONS.map((v) => [
    v,
    Object.fromEntries(
      Object.entries(SINCE).map(([f, since]) => [f, release(v) >= release(since)]),
    ) as Features,
  ]),
);

/** The features of kernel `version`. */
export const features = (version: KernelVersion): Features => TABLE.get(version)!;
