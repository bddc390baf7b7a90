// Kernel profile: version, policies and the page/pageblock constants (kernel-model.md §1.2, §1.4, §9).

export const PAGEBLOCK_ORDER = 9; // §1.2: arm64/x86-64 with 4 KiB pages
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
export const MAX_PAGE_ORDER = 10; // §1.4
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const GUP_PIN_COUNTING_BIAS = 1024; // §3.2
export const CMA_ALIGNMENT = 8; // CONFIG_CMA_ALIGNMENT default, §2.3
export const COMPACT_CLUSTER_MAX = 32; // §2.4 isolation batch
export const CONTIG_MIGRATE_TRIES = 5; // §2.4 __alloc_contig_migrate_range
export const MAX_CMA_AREAS = 8; // CONFIG_CMA_AREAS default, §2.1
export const MLOCK_LIMIT = 8 << 20; // §4.6 default RLIMIT_MEMLOCK
export const ANDROID_CMA_RETRIES = 10; // §6 item 3
export const CMA_RETRY_SLEEP_NS = 100_000_000; // §6 item 3: 100 ms

/** enum migratetype, same order in 6.4 and 6.18 (§1.2). */
export enum MT {
  UNMOVABLE = 0,
  MOVABLE = 1,
  RECLAIMABLE = 2,
  HIGHATOMIC = 3,
  CMA = 4,
  ISOLATE = 5,
}
export const MIGRATE_TYPES = 6;
export const MT_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'];

export type KernelVersion = '6.4' | '6.18';
export const KERNEL_VERSIONS: readonly KernelVersion[] = ['6.4', '6.18'];

/** The switches a user compares (kernel-model.md §6). */
export interface Policies {
  teePin: 'upstream' | 'v1-cma-ifdef' | 'v2-longterm';
  teeAccounting: 'none' | 'io_uring' | 'rdma' | 'vfio';
  cmaRetry: 'upstream' | 'android' | 'nofail';
  cmaEligibility: 'movable' | 'tagged-only';
  /**
   * which free block an allocation takes (§1.4): the lowest of the smallest sufficient order, a
   * seeded random pageblock's, or the kernel's own list discipline (page_alloc.ts)
   */
  placement: 'lowest-pfn' | 'shuffled' | 'kernel';
  /** per-CPU page lists for orders 0-3 (mm/pcp.ts), or every page straight from the buddy */
  pcp: 'off' | 'on';
  pinsLongtermByDefault: boolean;
}

export const DEFAULT_POLICIES: Policies = {
  teePin: 'upstream',
  teeAccounting: 'none',
  cmaRetry: 'upstream',
  cmaEligibility: 'movable',
  placement: 'kernel',
  pcp: 'on',
  pinsLongtermByDefault: false,
};

/** The valid values of every policy switch, for validation and error messages. */
export const POLICY_VALUES: { readonly [K in keyof Policies]: readonly Policies[K][] } = {
  teePin: ['upstream', 'v1-cma-ifdef', 'v2-longterm'],
  teeAccounting: ['none', 'io_uring', 'rdma', 'vfio'],
  cmaRetry: ['upstream', 'android', 'nofail'],
  cmaEligibility: ['movable', 'tagged-only'],
  placement: ['lowest-pfn', 'shuffled', 'kernel'],
  pcp: ['off', 'on'],
  pinsLongtermByDefault: [false, true],
};

/** A machine description that cannot boot. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Kernel-internal errno values (kernel-model.md §0 conventions). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
  ENOBUFS: 105,
  ENOTSUPP: 524,
} as const;
export type Errno = keyof typeof ERRNO;

const ERRNO_NAMES = new Map<number, Errno>(Object.entries(ERRNO).map(([k, v]) => [v, k as Errno]));

/** 'ENOMEM' for -12. */
export function errnoName(negative: number): Errno {
  const name = ERRNO_NAMES.get(-negative);
  if (!name) throw new Error(`unknown errno ${negative}`);
  return name;
}
