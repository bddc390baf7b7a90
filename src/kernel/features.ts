// What differs between the modelled kernel versions, as named features (like IS_ENABLED()): each
// is on from the release that brought it, cited to its commit where the docs record it. Kernel
// paths ask `features(k.version).cmaEarlyExit` instead of comparing version strings.
import { KERNEL_VERSIONS, type KernelVersion } from './config.js';

/** The release each feature arrived in ('6.18': after 6.4, present in 6.18). */
const SINCE = {
  /** 6.15 "mm/cma: support multiple contiguous ranges": cma_alloc() is __cma_alloc() per
   * range; its early returns touch no counter; ret starts at -EBUSY; trace_cma_alloc_finish
   * after the pr_err, with the page's pfn or 0 (§2.3, §2.7) */
  cmaRanges: '6.15',
  /** 6.15: available_count, and cma_alloc() stops once a request exceeds it (§2.7) */
  cmaEarlyExit: '6.15',
  /** 6.15: sysfs total_pages/available_pages, debugfs `used` = count - available_count, the
   * richer cma_alloc_start (§2.6, §2.7) */
  cmaAvailableCount: '6.15',
  /** 6.15: cma_debug_show_areas() prints without CONFIG_CMA_DEBUG (§2.6) */
  cmaDebugShowAreas: '6.15',
  /** 6.9: sysfs release_pages_success (§2.7) */
  cmaReleasePagesSuccess: '6.9',
  /** __alloc_contig_migrate_range() migrates to GFP_KERNEL, not GFP_USER, targets (§2.4) */
  contigGfpKernel: '6.18',
  /** trace mm_migrate_pages has nr_split (§2.6) */
  migrateNrSplit: '6.18',
  /** 6.5 (8ac268436e6d, a6e79df92e4a): writable long-term GUP of a dirty-tracked file mapping is
   * -EFAULT, and GUP-fast leaves it to the slow path (§4.5) */
  gupLongtermFileCheck: '6.5',
  /** 6.5: io_pin_pages() pins with pin_user_pages_fast() and leaves file mappings to GUP (§4.5) */
  ioUringPinFast: '6.5',
  /** 6.5 (block tree, June 2023): O_DIRECT pins user pages (FOLL_PIN), no longer FOLL_GET (§4.2) */
  dioFollPin: '6.5',
  /** 6.8 "tee: Use iov_iter to better support shared buffer registration": an empty buffer
   * registers as -ENOMEM (§5.1) */
  teeShmIovIter: '6.8',
  /** 6.8 (Nov 2023): TEE_IOC_SHM_ALLOC takes alloc_pages_exact() (§5.1) */
  teeShmAllocExact: '6.8',
  /** 6.7 PCP high auto-tuning: high_min/high_max, alloc_factor, free_count (§1.4) */
  pcpHighAuto: '6.7',
  /** __rmqueue_claim() claims a fallback block or tries the next order; 6.4's
   * steal_suitable_fallback() took the stolen block's smallest page instead (§1.5) */
  rmqueueClaim: '6.18',
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
